import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.enums import IntroductionDecliner, IntroductionStatus
from rapport_common.models.introductions import Introduction
from rapport_common.repositories.blocks import unblocked_with
from services.api.pagination import newest_first


class IntroductionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, introduction_id: uuid.UUID) -> Introduction | None:
        query = select(Introduction).where(Introduction.id == introduction_id).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add(self, introduction: Introduction) -> Introduction:
        self.session.add(introduction)
        await self.session.flush()
        return introduction

    async def open_for(self, requester: uuid.UUID, target: uuid.UUID) -> Introduction | None:
        query = select(Introduction).where(
            Introduction.requester_id == requester,
            Introduction.target_id == target,
            Introduction.status.in_((IntroductionStatus.REQUESTED, IntroductionStatus.FORWARDED)),
        )
        return (await self.session.execute(query)).scalars().first()

    async def page_for(
        self, member_id: uuid.UUID, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[Introduction]:
        offered_to_me = and_(
            Introduction.target_id == member_id,
            or_(
                Introduction.status.in_(
                    (IntroductionStatus.FORWARDED, IntroductionStatus.ACCEPTED)
                ),
                Introduction.declined_by == IntroductionDecliner.TARGET,
            ),
        )
        query = select(Introduction).where(
            or_(
                Introduction.requester_id == member_id,
                Introduction.intermediary_id == member_id,
                offered_to_me,
            ),
            # None with a member I blocked or who blocked me (I never block myself).
            unblocked_with(member_id, Introduction.requester_id),
            unblocked_with(member_id, Introduction.intermediary_id),
            unblocked_with(member_id, Introduction.target_id),
        )
        query = newest_first(query, Introduction.created_at, Introduction.id, limit, after)
        return (await self.session.execute(query)).scalars().all()
