"""recommendations, notes on connections, the interaction history's index

Recommendations a member writes of a connection (one live per author and subject), a
member's private notes and tags on their connections, and an index for reading back the
interactions a member logged. The status values are written out here, not imported, so
this migration keeps meaning what it meant when the models change.

Revision ID: f3c4e5a6b703
Revises: d1a2c3e4f501
Create Date: 2026-12-02 09:20:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f3c4e5a6b703"
down_revision: str | None = "d1a2c3e4f501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("requested", "approved", "hidden", "declined", "withdrawn")
LIVE = ("requested", "approved", "hidden")


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    op.create_table(
        "recommendations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            f"status IN ({_quoted(STATUSES)})", name=op.f("ck_recommendations_status")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["members.id"],
            name=op.f("fk_recommendations_author_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["members.id"],
            name=op.f("fk_recommendations_subject_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
    )
    op.create_index(
        "uq_recommendations_live",
        "recommendations",
        ["author_id", "subject_id"],
        unique=True,
        postgresql_where=sa.text(f"status IN ({_quoted(LIVE)})"),
    )
    op.create_index(
        "ix_recommendations_subject_status", "recommendations", ["subject_id", "status"]
    )
    op.create_table(
        "connection_notes",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("other_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["members.id"],
            name=op.f("fk_connection_notes_owner_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_id"],
            ["members.id"],
            name=op.f("fk_connection_notes_other_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "other_id", name=op.f("pk_connection_notes")),
    )
    op.create_index(
        "ix_connection_notes_tags", "connection_notes", ["tags"], postgresql_using="gin"
    )
    op.create_index(
        "ix_interactions_logged_by_occurred", "interactions", ["logged_by", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_interactions_logged_by_occurred", table_name="interactions")
    op.drop_index("ix_connection_notes_tags", table_name="connection_notes")
    op.drop_table("connection_notes")
    op.drop_index("ix_recommendations_subject_status", table_name="recommendations")
    op.drop_index("uq_recommendations_live", table_name="recommendations")
    op.drop_table("recommendations")
