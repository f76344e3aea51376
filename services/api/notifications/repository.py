import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.notifications.models import Notification, NudgeSettings


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
        if after is not None:
            created_at, last_id = after
            query = query.where(
                or_(
                    Notification.created_at < created_at,
                    and_(Notification.created_at == created_at, Notification.id < last_id),
                )
            )
        query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
        return (await self.session.execute(query.limit(limit + 1))).scalars().all()

    async def nudge_settings(self, member_id: uuid.UUID) -> NudgeSettings | None:
        return await self.session.get(NudgeSettings, member_id)

    async def save_nudge_settings(self, member_id: uuid.UUID, values: dict[str, object]) -> None:
        statement = insert(NudgeSettings).values(member_id=member_id, **values)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["member_id"], set_=values)
        )
