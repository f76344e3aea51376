import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.enums import WebhookMessageStatus
from rapport_common.models.members import Member
from rapport_common.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage
from services.api.pagination import newest_first


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, endpoint_id: uuid.UUID, for_update: bool = False) -> WebhookEndpoint | None:
        query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
        if for_update:
            # NO KEY UPDATE, so deliveries in flight (KEY SHARE) neither block nor wait.
            query = query.with_for_update(key_share=True)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def lock_member(self, member_id: uuid.UUID) -> None:
        """Serialize one member's registrations, so two at once cannot both pass the cap.
        NO KEY UPDATE: rows referring to the member can still be written meanwhile."""
        query = select(Member.id).where(Member.id == member_id).with_for_update(key_share=True)
        await self.session.execute(query)

    async def count_for(self, member_id: uuid.UUID) -> int:
        query = select(func.count()).where(WebhookEndpoint.member_id == member_id)
        return (await self.session.execute(query)).scalar_one()

    async def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.session.add(endpoint)
        await self.session.flush()
        return endpoint

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        await self.session.delete(endpoint)
        await self.session.flush()

    async def page_for(
        self, member_id: uuid.UUID, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[WebhookEndpoint]:
        query = select(WebhookEndpoint).where(WebhookEndpoint.member_id == member_id)
        query = newest_first(query, WebhookEndpoint.created_at, WebhookEndpoint.id, limit, after)
        return (await self.session.execute(query)).scalars().all()

    async def message_for_update(
        self, endpoint_id: uuid.UUID, message_id: str
    ) -> WebhookMessage | None:
        """The message, locked; raises if a delivery holds it (NOWAIT) rather than wait for
        the receiver to answer."""
        query = (
            select(WebhookMessage)
            .where(WebhookMessage.id == message_id, WebhookMessage.endpoint_id == endpoint_id)
            .with_for_update(nowait=True)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def restart_failed_since(
        self, endpoint_id: uuid.UUID, since: datetime, now: datetime
    ) -> int:
        restarted = await self.session.execute(
            update(WebhookMessage)
            .where(
                WebhookMessage.endpoint_id == endpoint_id,
                WebhookMessage.status == WebhookMessageStatus.FAILED,
                WebhookMessage.created_at >= since,
            )
            .values(
                status=WebhookMessageStatus.PENDING,
                round_failures=0,
                generation=WebhookMessage.generation + 1,
                next_attempt_at=now,
            )
            .returning(WebhookMessage.id)
        )
        return len(restarted.all())

    async def attempts_page(
        self,
        endpoint_id: uuid.UUID,
        message_id: str | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> list[tuple[WebhookAttempt, str]]:
        """The delivery log, newest first."""
        query = (
            select(WebhookAttempt, WebhookMessage.event_type)
            .join(WebhookMessage, WebhookMessage.id == WebhookAttempt.message_id)
            .where(WebhookAttempt.endpoint_id == endpoint_id)
        )
        if message_id is not None:
            query = query.where(WebhookAttempt.message_id == message_id)
        query = newest_first(query, WebhookAttempt.attempted_at, WebhookAttempt.id, limit, after)
        rows = await self.session.execute(query)
        return [(row[0], row[1]) for row in rows.all()]
