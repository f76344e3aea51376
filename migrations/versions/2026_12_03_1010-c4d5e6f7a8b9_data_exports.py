"""data_exports: a member's archive of their data, built by the worker

One row per export request; the archive is stored gzip-compressed in the row, so any
API process serves it; a sweep deletes it after its download window. The status values
are written out here, not imported, so this migration keeps meaning what it meant.

Revision ID: c4d5e6f7a8b9
Revises: b1a2c3d4e5f6
Create Date: 2026-12-03 10:10:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d5e6f7a8b9"
down_revision: str | None = "b1a2c3d4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archive", sa.LargeBinary(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'ready', 'expired')", name=op.f("ck_data_exports_status")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_data_exports_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    op.create_index(
        "uq_data_exports_pending",
        "data_exports",
        ["member_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_data_exports_member_requested", "data_exports", ["member_id", "requested_at"]
    )
    op.create_index(
        "ix_data_exports_ready_expires",
        "data_exports",
        ["expires_at"],
        postgresql_where=sa.text("status = 'ready'"),
    )


def downgrade() -> None:
    op.drop_table("data_exports")
