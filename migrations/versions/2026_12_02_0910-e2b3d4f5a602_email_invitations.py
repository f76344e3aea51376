"""invitations by email, the do-not-contact list

Invitations a member sends to an email address (docs/privacy.md, "Email addresses"),
the link from the ordinary invitation one may become back to it, and the addresses that
asked for no email from Rapport, kept as keyed hashes only.

Revision ID: e2b3d4f5a602
Revises: f3c4e5a6b703
Create Date: 2026-12-02 09:10:00.000000+00:00
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "e2b3d4f5a602"
down_revision: str | None = "f3c4e5a6b703"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _moment(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "email_invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("inviter_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("how_we_met", sa.String(length=20), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=True),
        sa.Column("join_email", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _moment("expires_at", nullable=False),
        _moment("emailed_at"),
        sa.Column("email_attempts", sa.Integer(), nullable=False),
        _moment("email_failed_at"),
        sa.Column("email_error", sa.String(length=500), nullable=True),
        _moment("redeemed_at"),
        _moment("withdrawn_at"),
        sa.ForeignKeyConstraint(
            ["inviter_id"],
            ["members.id"],
            name=op.f("fk_email_invitations_inviter_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_invitations")),
    )
    op.create_index(
        "ix_email_invitations_address_hash_created",
        "email_invitations",
        ["address_hash", "created_at"],
    )
    op.create_index(
        "ix_email_invitations_inviter_created", "email_invitations", ["inviter_id", "created_at"]
    )
    op.create_table(
        "do_not_contact",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("address_hash", name=op.f("pk_do_not_contact")),
    )
    op.add_column("invitations", sa.Column("email_invitation_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_invitations_email_invitation_id_email_invitations"),
        "invitations",
        "email_invitations",
        ["email_invitation_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_invitations_email_invitation_id_email_invitations"),
        "invitations",
        type_="foreignkey",
    )
    op.drop_column("invitations", "email_invitation_id")
    op.drop_table("do_not_contact")
    op.drop_index("ix_email_invitations_inviter_created", table_name="email_invitations")
    op.drop_index("ix_email_invitations_address_hash_created", table_name="email_invitations")
    op.drop_table("email_invitations")
