"""members: a given name for messages, and when the email was verified

Members who registered before verification existed are counted as verified as of
their registration: they were never asked, and locking them out would punish them.

Revision ID: b1a2c3d4e5f6
Revises: a7c1e9d2b804
Create Date: 2026-12-03 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a2c3d4e5f6"
down_revision: str | None = "a7c1e9d2b804"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("members", sa.Column("given_name", sa.String(60), nullable=True))
    op.add_column(
        "members", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE members SET email_verified_at = created_at")


def downgrade() -> None:
    op.drop_column("members", "email_verified_at")
    op.drop_column("members", "given_name")
