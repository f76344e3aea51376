"""account_tokens, account_requests, refresh_tokens.device: account emails and sessions

``account_tokens``: one row per account email (verification, password reset, email
change and its undo), the link's token kept only as its SHA-256. ``account_requests``:
the counters limiting how often those emails are asked for. ``refresh_tokens.device``:
what signed in, shown in the sessions list. The purposes are written out here, not
imported, so this migration keeps meaning what it meant.

Revision ID: e2f3a4b5c6d7
Revises: d8e9f0a1b2c3
Create Date: 2026-12-03 15:15:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2f3a4b5c6d7"
down_revision: str | None = "d8e9f0a1b2c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("email_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'reset_password', 'change_email', 'undo_email_change')",
            name=op.f("ck_account_tokens_purpose"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_account_tokens_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_index("ix_account_tokens_member_purpose", "account_tokens", ["member_id", "purpose"])
    op.create_table(
        "account_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_requests")),
    )
    op.create_index(
        "ix_account_requests_key_requested_at", "account_requests", ["key_hash", "requested_at"]
    )
    op.create_index("ix_account_requests_requested_at", "account_requests", ["requested_at"])
    op.add_column("refresh_tokens", sa.Column("device", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("refresh_tokens", "device")
    op.drop_table("account_requests")
    op.drop_table("account_tokens")
