"""connections: the high-side index covers the low side

``ix_connections_member_high_id`` also carries ``member_low_id``, so listing a member's
connections reads the index alone on both sides (the primary key already does it for
the low side); member search looks up thousands of them per query (docs/search.md).

Revision ID: a7c1e9d2b804
Revises: e2b3d4f5a602
Create Date: 2026-12-02 09:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7c1e9d2b804"
down_revision: str | None = "e2b3d4f5a602"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_connections_member_high_id", table_name="connections")
    op.create_index(
        "ix_connections_member_high_id",
        "connections",
        ["member_high_id"],
        postgresql_include=["member_low_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_connections_member_high_id", table_name="connections")
    op.create_index("ix_connections_member_high_id", "connections", ["member_high_id"])
