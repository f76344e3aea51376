"""reachable_by: who may see a way to a member

A new member setting (docs/privacy.md), and one ``member.updated`` event per member
whose settings differ from the defaults, because the graph learns settings from member
events and the old ones did not carry them. The values are written out here, not
imported, so this migration keeps meaning what it meant when the enum changes.

Revision ID: 5c1d7e2a9b34
Revises: abd66dab0f7f
Create Date: 2026-12-01 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1d7e2a9b34"
down_revision: str | None = "abd66dab0f7f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VALUES = ("everyone", "second_degree", "nobody")

# The relay picks these up through the NOTIFY trigger; their higher sequence wins over
# each member's older events in the graph.
BACKFILL_GRAPH = """
INSERT INTO outbox_events (id, type, version, payload, attempts)
SELECT gen_random_uuid(), 'member.updated', 1,
       jsonb_build_object(
           'member_id', id, 'name', name, 'is_recruiter', is_recruiter,
           'allows_introductions', allows_introductions,
           'connections_visible_to', connections_visible_to, 'reachable_by', reachable_by),
       0
FROM members
WHERE connections_visible_to <> 'connections'
ORDER BY created_at, id
"""


def upgrade() -> None:
    op.add_column(
        "members",
        sa.Column("reachable_by", sa.String(length=20), nullable=False, server_default="everyone"),
    )
    op.create_check_constraint(
        op.f("ck_members_reachable_by"),
        "members",
        f"reachable_by IN ({', '.join(map(repr, VALUES))})",
    )
    op.execute(BACKFILL_GRAPH)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_members_reachable_by"), "members", type_="check")
    op.drop_column("members", "reachable_by")
