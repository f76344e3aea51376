"""search, profile fields, findability, blocks

The profile fields a front end shows, the member settings of issue 12 (who may find me,
by email too, how long a decliner is not invited again by the same sender, who sees my
recommendations), the generated search vector with its full-text and trigram indexes
(docs/search.md), the per-day search count, and blocks. The values and the search
expression are written out here, not imported, so this migration keeps meaning what it
meant when the models change.

Revision ID: d1a2c3e4f501
Revises: 24065a0bcfcb
Create Date: 2026-12-02 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d1a2c3e4f501"
down_revision: str | None = "24065a0bcfcb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINDABLE_BY = ("everyone", "within_3_degrees", "nobody")
VISIBILITY = ("only_me", "connections", "everyone")

SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, "
    "coalesce(company, '') || ' ' || coalesce(market_area, '')), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, "
    "coalesce(headline, '') || ' ' || coalesce(title, '')), 'C')"
)


def _one_of(column: str, values: Sequence[str]) -> None:
    op.create_check_constraint(
        op.f(f"ck_members_{column}"), "members", f"{column} IN ({', '.join(map(repr, values))})"
    )


def upgrade() -> None:
    # Trusted from PostgreSQL 13, so the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column("members", sa.Column("company", sa.String(length=120), nullable=True))
    op.add_column("members", sa.Column("title", sa.String(length=120), nullable=True))
    op.add_column("members", sa.Column("bio", sa.Text(), nullable=True))
    op.add_column(
        "members",
        sa.Column(
            "links", postgresql.ARRAY(sa.String(length=300)), nullable=False, server_default="{}"
        ),
    )
    op.add_column("members", sa.Column("locale", sa.String(length=35), nullable=True))
    op.add_column("members", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.add_column(
        "members",
        sa.Column("findable_by", sa.String(length=20), nullable=False, server_default="everyone"),
    )
    _one_of("findable_by", FINDABLE_BY)
    op.add_column(
        "members",
        sa.Column("findable_by_email", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column(
        "members",
        sa.Column("decline_cooldown_days", sa.SmallInteger(), nullable=True, server_default="90"),
    )
    op.create_check_constraint(
        op.f("ck_members_decline_cooldown_days_range"),
        "members",
        "decline_cooldown_days BETWEEN 1 AND 3650",
    )
    op.add_column(
        "members",
        sa.Column(
            "recommendations_visible_to",
            sa.String(length=20),
            nullable=False,
            server_default="everyone",
        ),
    )
    _one_of("recommendations_visible_to", VISIBILITY)
    op.add_column(
        "members",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(SEARCH_VECTOR, persisted=True),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_members_search_vector", "members", ["search_vector"], postgresql_using="gin"
    )
    op.create_index(
        "ix_members_name_trgm",
        "members",
        ["name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_members_company_trgm",
        "members",
        ["company"],
        postgresql_using="gin",
        postgresql_ops={"company": "gin_trgm_ops"},
    )
    op.create_table(
        "blocks",
        sa.Column("blocker_id", sa.Uuid(), nullable=False),
        sa.Column("blocked_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("blocker_id <> blocked_id", name=op.f("ck_blocks_not_self")),
        sa.ForeignKeyConstraint(
            ["blocker_id"],
            ["members.id"],
            name=op.f("fk_blocks_blocker_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["blocked_id"],
            ["members.id"],
            name=op.f("fk_blocks_blocked_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name=op.f("pk_blocks")),
    )
    op.create_index("ix_blocks_blocked_id", "blocks", ["blocked_id"])
    op.create_table(
        "search_usage",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_search_usage_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "day", name=op.f("pk_search_usage")),
    )


def downgrade() -> None:
    op.drop_table("search_usage")
    op.drop_index("ix_blocks_blocked_id", table_name="blocks")
    op.drop_table("blocks")
    op.drop_index("ix_members_company_trgm", table_name="members")
    op.drop_index("ix_members_name_trgm", table_name="members")
    op.drop_index("ix_members_search_vector", table_name="members")
    op.drop_column("members", "search_vector")
    op.drop_constraint(op.f("ck_members_recommendations_visible_to"), "members", type_="check")
    op.drop_column("members", "recommendations_visible_to")
    op.drop_constraint(op.f("ck_members_decline_cooldown_days_range"), "members", type_="check")
    op.drop_column("members", "decline_cooldown_days")
    op.drop_column("members", "findable_by_email")
    op.drop_constraint(op.f("ck_members_findable_by"), "members", type_="check")
    op.drop_column("members", "findable_by")
    for column in ("time_zone", "locale", "links", "bio", "title", "company"):
        op.drop_column("members", column)
