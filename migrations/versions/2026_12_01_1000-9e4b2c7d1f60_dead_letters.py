"""dead letters: per-consumer progress and a dead state for outbox events, failed emails

``outbox_events`` records which consumers are done with an event (a retry runs only the
others), how many times the reconciler relayed it again (part of its job id) and when it
was given up on. ``notifications`` records an email that will not be sent, and why.

Revision ID: 9e4b2c7d1f60
Revises: 5c1d7e2a9b34
Create Date: 2026-12-01 10:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "9e4b2c7d1f60"
down_revision: str | None = "5c1d7e2a9b34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "outbox_events",
        sa.Column(
            "consumed_by",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.add_column(
        "outbox_events",
        sa.Column("requeues", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("outbox_events", sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_outbox_events_dead",
        "outbox_events",
        ["dead_at"],
        unique=False,
        postgresql_where=sa.text("dead_at IS NOT NULL"),
    )
    op.add_column(
        "notifications",
        sa.Column("email_failed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("notifications", sa.Column("email_error", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "email_error")
    op.drop_column("notifications", "email_failed_at")
    op.drop_index(
        "ix_outbox_events_dead",
        table_name="outbox_events",
        postgresql_where=sa.text("dead_at IS NOT NULL"),
    )
    op.drop_column("outbox_events", "dead_at")
    op.drop_column("outbox_events", "requeues")
    op.drop_column("outbox_events", "consumed_by")
