import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.notifications import Notification, NudgeSettings
from services.api.pagination import newest_first


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_mine(
        self, member_id: uuid.UUID, notification_id: uuid.UUID
    ) -> Notification | None:
        query = select(Notification).where(
            Notification.id == notification_id, Notification.member_id == member_id
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(
        self,
        member_id: uuid.UUID,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        unread_only: bool,
    ) -> Sequence[Notification]:
        query = select(Notification).where(Notification.member_id == member_id)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        query = newest_first(query, Notification.created_at, Notification.id, limit, after)
        return (await self.session.execute(query)).scalars().all()

    async def nudge_settings(self, member_id: uuid.UUID) -> NudgeSettings | None:
        return await self.session.get(NudgeSettings, member_id)

    async def save_nudge_settings(self, member_id: uuid.UUID, values: dict[str, object]) -> None:
        statement = insert(NudgeSettings).values(member_id=member_id, **values)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["member_id"], set_=values)
        )
