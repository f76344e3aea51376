"""Outbox notify trigger

Revision ID: b6dc9e4ed1aa
Revises: 6884b60d1c75
Create Date: 2026-11-26 14:29:43.108117+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b6dc9e4ed1aa"
down_revision: str | None = "6884b60d1c75"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# One NOTIFY per inserting statement, sent by PostgreSQL on commit: the relay wakes
# without the API spending a round trip on it, and a rolled-back insert wakes no one.
def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION rapport_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('rapport_outbox', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
        FOR EACH STATEMENT EXECUTE FUNCTION rapport_outbox_notify()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_events_notify ON outbox_events")
    op.execute("DROP FUNCTION rapport_outbox_notify()")
