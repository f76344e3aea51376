"""sealed_webhook_secrets: endpoints' signing secrets sealed at rest

Revision ID: 0a7c5e1d9b3f
Revises: f5a6b7c8d9e0
Create Date: 2026-12-03 16:00:00.000000+00:00

Seals with the keys the running configuration has (``webhooks.secret_keys``), as the
services will open them; downgrading opens them again.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from rapport_common.webhooks.sealing import SEALED_LENGTH, secret_box

revision: str = "0a7c5e1d9b3f"
down_revision: str | None = "f5a6b7c8d9e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAIN_LENGTH = 100
endpoints = sa.table(
    "webhook_endpoints",
    sa.column("id", sa.Uuid()),
    sa.column("secret", sa.String()),
    sa.column("previous_secret", sa.String()),
)


def _rewrite(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(endpoints.c.id, endpoints.c.secret, endpoints.c.previous_secret))
    for row_id, secret, previous in rows.all():
        bind.execute(
            endpoints.update()
            .where(endpoints.c.id == row_id)
            .values(
                secret=change(secret),
                previous_secret=None if previous is None else change(previous),
            )
        )


def _resize(length: int) -> None:
    for column in ("secret", "previous_secret"):
        op.alter_column("webhook_endpoints", column, type_=sa.String(length=length))


def upgrade() -> None:
    _resize(SEALED_LENGTH)
    box = secret_box()
    _rewrite(lambda value: value if box.is_sealed(value) else box.seal(value))


def downgrade() -> None:
    box = secret_box()
    _rewrite(lambda value: box.open(value) if box.is_sealed(value) else value)
    _resize(PLAIN_LENGTH)
