import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.blocks import Block
from rapport_common.models.enums import OPEN_INVITATION_STATUSES, IntroductionStatus
from rapport_common.models.introductions import Introduction
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from services.api.pagination import newest_first

OPEN_INTRODUCTION_STATUSES = (IntroductionStatus.REQUESTED, IntroductionStatus.FORWARDED)


class BlockingRepository:
    """What a block closes between two members, and the blocker's list. The block rows
    themselves are ``rapport_common.repositories.blocks``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def write_both(self, a: uuid.UUID, b: uuid.UUID) -> None:
        """A new version of both members' rows, changing nothing, locked in id order.
        A send by either that is being written holds its sender's row (its send lock
        writes it too), so this waits for it, and what it stored is then seen; a send
        that read the rows before this finds their version changed and sends again,
        locked, seeing the block (``invitations.quick_send``)."""
        members = cast(Table, Member.__table__)
        locked = (
            select(members.c.id)
            .where(members.c.id.in_((a, b)))
            .order_by(members.c.id)
            .with_for_update(key_share=True)
        )
        await self.session.execute(
            update(members)
            .where(members.c.id.in_(locked.scalar_subquery()))
            .values(updated_at=members.c.updated_at)
        )

    async def open_invitations_between(self, a: uuid.UUID, b: uuid.UUID) -> Sequence[Invitation]:
        query = (
            select(Invitation)
            .where(
                Invitation.status.in_(OPEN_INVITATION_STATUSES),
                or_(
                    and_(Invitation.inviter_id == a, Invitation.invitee_id == b),
                    and_(Invitation.inviter_id == b, Invitation.invitee_id == a),
                ),
            )
            .with_for_update()
        )
        return (await self.session.execute(query)).scalars().all()

    async def open_introductions_between(
        self, a: uuid.UUID, b: uuid.UUID
    ) -> Sequence[Introduction]:
        """Open introductions the two both take part in, whatever their roles."""
        members = (Introduction.requester_id, Introduction.intermediary_id, Introduction.target_id)
        query = (
            select(Introduction)
            .where(
                Introduction.status.in_(OPEN_INTRODUCTION_STATUSES),
                or_(*(column == a for column in members)),
                or_(*(column == b for column in members)),
            )
            .with_for_update()
        )
        return (await self.session.execute(query)).scalars().all()

    async def page_blocked_by(
        self, blocker: uuid.UUID, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[tuple[Block, Member]]:
        query = (
            select(Block, Member)
            .join(Member, Member.id == Block.blocked_id)
            .where(Block.blocker_id == blocker)
        )
        query = newest_first(query, Block.created_at, Block.blocked_id, limit, after)
        return [(row[0], row[1]) for row in (await self.session.execute(query)).all()]
