import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.enums import InvitationStatus
from rapport_common.models.invitations import Invitation
from services.api.pagination import newest_first


class EmailInvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, invitation: EmailInvitation) -> EmailInvitation:
        self.session.add(invitation)
        await self.session.flush()
        return invitation

    async def get(
        self, email_invitation_id: uuid.UUID, for_update: bool = False
    ) -> EmailInvitation | None:
        query = select(EmailInvitation).where(EmailInvitation.id == email_invitation_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def lock_address(self, address_hash: str) -> None:
        """Serialize everything done to one address in this transaction, so two senders
        at once cannot both send it a join email."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(address_hash))))

    async def join_email_since(self, address_hash: str, since: datetime) -> bool:
        """Whether any sender's invitation since ``since`` already asked for a join email
        to this address."""
        query = select(
            exists().where(
                EmailInvitation.address_hash == address_hash,
                EmailInvitation.created_at > since,
                EmailInvitation.join_email.is_(True),
            )
        )
        return bool(await self.session.scalar(query))

    async def unclaimed(self, address_hash: str, now: datetime) -> Sequence[EmailInvitation]:
        """The live invitations to this address that became no invitation yet, newest
        first, locked: not expired, withdrawn or redeemed."""
        query = (
            select(EmailInvitation)
            .where(
                EmailInvitation.address_hash == address_hash,
                EmailInvitation.invitation_id.is_(None),
                EmailInvitation.redeemed_at.is_(None),
                EmailInvitation.withdrawn_at.is_(None),
                EmailInvitation.expires_at > now,
            )
            .order_by(EmailInvitation.created_at.desc(), EmailInvitation.id.desc())
            .with_for_update()
        )
        return (await self.session.execute(query)).scalars().all()

    async def page_for(
        self, inviter_id: uuid.UUID, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[tuple[EmailInvitation, InvitationStatus | None]]:
        """The inviter's invitations by email, newest first, each with the status of the
        invitation it became (None if none)."""
        query = (
            select(EmailInvitation, Invitation.status)
            .outerjoin(Invitation, Invitation.id == EmailInvitation.invitation_id)
            .where(EmailInvitation.inviter_id == inviter_id)
        )
        query = newest_first(query, EmailInvitation.created_at, EmailInvitation.id, limit, after)
        rows = await self.session.execute(query)
        return [(row[0], row[1]) for row in rows]
