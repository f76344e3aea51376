import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from rapport_common.models.connections import Connection, Interaction
from rapport_common.models.enums import (
    LIVE_RECOMMENDATION_STATUSES,
    ConnectionVisibility,
    RecommendationStatus,
)
from rapport_common.models.members import Member
from rapport_common.models.recommendations import Recommendation
from rapport_common.repositories.blocks import unblocked_with
from services.api.pagination import newest_first


class RecommendationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, recommendation_id: uuid.UUID, for_update: bool = False
    ) -> Recommendation | None:
        query = select(Recommendation).where(Recommendation.id == recommendation_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def add(self, recommendation: Recommendation) -> Recommendation:
        self.session.add(recommendation)
        await self.session.flush()
        return recommendation

    async def live_between(self, a: uuid.UUID, b: uuid.UUID) -> Sequence[Recommendation]:
        """The live recommendations either of the two wrote of the other, locked."""
        query = (
            select(Recommendation)
            .where(
                Recommendation.status.in_(LIVE_RECOMMENDATION_STATUSES),
                or_(
                    and_(Recommendation.author_id == a, Recommendation.subject_id == b),
                    and_(Recommendation.author_id == b, Recommendation.subject_id == a),
                ),
            )
            .with_for_update()
        )
        return (await self.session.execute(query)).scalars().all()

    async def has_live(self, author: uuid.UUID, subject: uuid.UUID) -> bool:
        query = select(
            exists().where(
                Recommendation.author_id == author,
                Recommendation.subject_id == subject,
                Recommendation.status.in_(LIVE_RECOMMENDATION_STATUSES),
            )
        )
        return bool(await self.session.scalar(query))

    async def logged_any(
        self, connection: Connection, logged_by: uuid.UUID, kinds: Sequence[str]
    ) -> bool:
        """Whether ``logged_by`` logged an interaction of one of ``kinds`` on the pair."""
        query = select(
            exists().where(
                Interaction.member_low_id == connection.member_low_id,
                Interaction.member_high_id == connection.member_high_id,
                Interaction.logged_by == logged_by,
                Interaction.kind.in_(kinds),
            )
        )
        return bool(await self.session.scalar(query))

    async def page_mine(
        self,
        member_id: uuid.UUID,
        written: bool,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[Recommendation]:
        """Those I wrote, or those written of me, newest first; none with a member
        either of us blocked."""
        mine = Recommendation.author_id if written else Recommendation.subject_id
        theirs = Recommendation.subject_id if written else Recommendation.author_id
        query = select(Recommendation).where(mine == member_id, unblocked_with(member_id, theirs))
        query = newest_first(query, Recommendation.created_at, Recommendation.id, limit, after)
        return (await self.session.execute(query)).scalars().all()

    async def page_shown(
        self,
        subject_id: uuid.UUID,
        viewer_id: uuid.UUID,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[tuple[Recommendation, Member, Connection]]:
        """The subject's approved recommendations a viewer may read, newest approval
        first, with the author and the connection they describe. Left out: those whose
        connection is gone, whose author now keeps their connections to themselves, or
        whose author and the viewer are blocked either way."""
        low = Connection.member_low_id
        high = Connection.member_high_id
        query = (
            select(Recommendation, Member, Connection)
            .join(Member, Member.id == Recommendation.author_id)
            .join(
                Connection,
                or_(
                    and_(low == Recommendation.author_id, high == Recommendation.subject_id),
                    and_(low == Recommendation.subject_id, high == Recommendation.author_id),
                ),
            )
            .where(
                Recommendation.subject_id == subject_id,
                Recommendation.status == RecommendationStatus.APPROVED,
                Member.connections_visible_to != ConnectionVisibility.ONLY_ME,
                unblocked_with(viewer_id, Member.id),
            )
        )
        # Set on every approved row, the only ones listed.
        approved_at = cast(InstrumentedAttribute[datetime], Recommendation.approved_at)
        query = newest_first(query, approved_at, Recommendation.id, limit, after)
        rows = (await self.session.execute(query)).all()
        return [(row[0], row[1], row[2]) for row in rows]
