import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.notifications import (
    Notification,
    NotificationPreference,
    NudgeSettings,
)
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
        # One the member switched off in the app is kept (its email may still go), hidden.
        query = select(Notification).where(
            Notification.member_id == member_id, Notification.in_feed.is_(True)
        )
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

    async def preferences(self, member_id: uuid.UUID) -> dict[str, NotificationPreference]:
        rows = await self.session.execute(
            select(NotificationPreference).where(NotificationPreference.member_id == member_id)
        )
        return {row.kind: row for row in rows.scalars()}

    async def save_preferences(
        self, member_id: uuid.UUID, entries: Sequence[dict[str, object]]
    ) -> None:
        """Store each entry (kind, email, in_app) as the member's preference for its kind."""
        if not entries:
            return
        statement = insert(NotificationPreference).values(
            [{"member_id": member_id, **entry} for entry in entries]
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["member_id", "kind"],
                set_={
                    "email": statement.excluded.email,
                    "in_app": statement.excluded.in_app,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )

    async def forget_preferences(self, member_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(NotificationPreference).where(NotificationPreference.member_id == member_id)
        )
