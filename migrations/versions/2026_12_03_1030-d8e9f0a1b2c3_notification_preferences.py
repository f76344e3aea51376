"""notification_preferences; notifications shown in the feed or not, emailed at once, in
the daily digest or not at all

A member's choice per kind of notification (no row: the defaults). Each notification
records what the member's choice made of it when it was stored; the unsent-email index
now holds only the emails still to send at once. The delivery values are written out
here, not imported, so this migration keeps meaning what it meant.

Revision ID: d8e9f0a1b2c3
Revises: c4d5e6f7a8b9
Create Date: 2026-12-03 10:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d8e9f0a1b2c3"
down_revision: str | None = "c4d5e6f7a8b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELIVERIES = "('instant', 'digest', 'off')"


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=20), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            f"email IN {DELIVERIES}", name=op.f("ck_notification_preferences_email")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_notification_preferences_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "kind", name=op.f("pk_notification_preferences")),
    )
    op.add_column(
        "notifications",
        sa.Column("in_feed", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.add_column(
        "notifications",
        sa.Column("email_delivery", sa.String(length=20), server_default="instant", nullable=False),
    )
    op.add_column("notifications", sa.Column("digest_id", sa.Uuid(), nullable=True))
    op.create_check_constraint(
        op.f("ck_notifications_email_delivery"), "notifications", f"email_delivery IN {DELIVERIES}"
    )
    op.create_foreign_key(
        op.f("fk_notifications_digest_id_notifications"),
        "notifications",
        "notifications",
        ["digest_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.drop_index("ix_notifications_unsent", table_name="notifications")
    op.create_index(
        "ix_notifications_unsent",
        "notifications",
        ["created_at"],
        postgresql_where=sa.text(
            "emailed_at IS NULL AND email_failed_at IS NULL AND email_delivery = 'instant'"
        ),
    )
    op.create_index(
        "ix_notifications_digest_pending",
        "notifications",
        ["member_id"],
        postgresql_where=sa.text("email_delivery = 'digest' AND digest_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_digest_pending", table_name="notifications")
    op.drop_index("ix_notifications_unsent", table_name="notifications")
    op.create_index(
        "ix_notifications_unsent",
        "notifications",
        ["created_at"],
        postgresql_where=sa.text("emailed_at IS NULL"),
    )
    op.drop_constraint(
        op.f("fk_notifications_digest_id_notifications"), "notifications", type_="foreignkey"
    )
    op.drop_constraint(op.f("ck_notifications_email_delivery"), "notifications", type_="check")
    op.drop_column("notifications", "digest_id")
    op.drop_column("notifications", "email_delivery")
    op.drop_column("notifications", "in_feed")
    op.drop_table("notification_preferences")
