"""statuses as check constraints

Every closed set of values is a VARCHAR with a CHECK constraint: the members' two
native enum types become VARCHAR, and the invitation and introduction statuses, until
now bare strings, get their CHECKs. The values are written out here, not imported, so
this migration keeps meaning what it meant when the enums change.

Revision ID: abd66dab0f7f
Revises: b6dc9e4ed1aa
Create Date: 2026-11-30 13:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "abd66dab0f7f"
down_revision: str | None = "b6dc9e4ed1aa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, native type name, values): the members' columns that were native enums.
NATIVE_ENUMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("networking_stance", "networking_stance", ("closed", "semi_open", "open")),
    ("connections_visible_to", "connection_visibility", ("only_me", "connections", "everyone")),
)

# (table, column, values): the columns that were bare strings.
BARE_STRINGS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "invitations",
        "status",
        (
            "pending",
            "deferred",
            "awaiting_answer",
            "accepted",
            "declined",
            "withdrawn",
            "expired",
        ),
    ),
    (
        "invitations",
        "referral_status",
        ("none", "unverified", "confirmed", "denied", "false_claim"),
    ),
    ("invitations", "report_reason", ("dont_know", "spam", "false_referral")),
    ("introductions", "status", ("requested", "forwarded", "declined", "accepted")),
    ("introductions", "declined_by", ("intermediary", "target")),
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    for column, type_name, values in NATIVE_ENUMS:
        op.alter_column(
            "members",
            column,
            type_=sa.String(length=20),
            existing_nullable=False,
            postgresql_using=f"{column}::text",
        )
        op.execute(f"DROP TYPE {type_name}")
        op.create_check_constraint(op.f(f"ck_members_{column}"), "members", _in(column, values))
    for table, column, values in BARE_STRINGS:
        op.create_check_constraint(op.f(f"ck_{table}_{column}"), table, _in(column, values))


def downgrade() -> None:
    for table, column, _ in reversed(BARE_STRINGS):
        op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
    for column, type_name, values in reversed(NATIVE_ENUMS):
        op.drop_constraint(op.f(f"ck_members_{column}"), "members", type_="check")
        op.execute(f"CREATE TYPE {type_name} AS ENUM ({', '.join(map(repr, values))})")
        op.alter_column(
            "members",
            column,
            type_=postgresql.ENUM(*values, name=type_name, create_type=False),
            existing_type=sa.String(length=20),
            existing_nullable=False,
            postgresql_using=f"{column}::{type_name}",
        )
