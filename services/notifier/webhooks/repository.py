"""The worker's SQL for webhooks: creating messages, claiming one for an attempt,
recording the outcome, disabling an endpoint."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, Uuid, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.db import DriverStatement
from rapport_common.models.enums import WebhookMessageStatus
from rapport_common.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage
from services.notifier import driver

DISABLED_NOTIFICATION = "webhook_endpoint_disabled"
_ENDPOINTS = cast(Table, WebhookEndpoint.__table__)
# What the fan-out reads of an endpoint (never its secrets).
_ENDPOINT_COLUMNS = ("id", "member_id", "event_types", "disabled_at")
_SUBSCRIBED = DriverStatement(
    select(*(_ENDPOINTS.c[name] for name in _ENDPOINT_COLUMNS)).where(
        _ENDPOINTS.c.member_id == any_(bindparam("member_ids", type_=ARRAY(Uuid()))),
        _ENDPOINTS.c.event_types.overlap(bindparam("event_types", type_=ARRAY(String()))),
        _ENDPOINTS.c.created_at <= bindparam("occurred_at"),
    )
)


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def subscribed(
        self, member_ids: set[uuid.UUID], event_types: set[str], occurred_at: datetime
    ) -> Sequence[WebhookEndpoint]:
        """The members' endpoints subscribed to any of the types that existed when the
        event happened (a newer endpoint does not receive older events). Read on the
        driver (every routed event asks, and most members have none), as plain objects
        holding ``_ENDPOINT_COLUMNS``."""
        params = {
            "member_ids": list(member_ids),
            "event_types": sorted(event_types),
            "occurred_at": occurred_at,
        }
        rows = await driver.fetch(self.session, _SUBSCRIBED, params)
        return [driver.plain(WebhookEndpoint, dict(row.items())) for row in rows]

    async def add_messages(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(
                insert(WebhookMessage)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["event_id", "endpoint_id"])
            )

    async def pending_of_event(self, event_id: uuid.UUID) -> Sequence[WebhookMessage]:
        query = select(WebhookMessage).where(
            WebhookMessage.event_id == event_id,
            WebhookMessage.status == WebhookMessageStatus.PENDING,
        )
        return (await self.session.execute(query)).scalars().all()

    async def due(self, now: datetime, limit: int) -> Sequence[WebhookMessage]:
        query = (
            select(WebhookMessage)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_id)
            .where(
                WebhookMessage.status == WebhookMessageStatus.PENDING,
                WebhookMessage.next_attempt_at <= now,
                WebhookEndpoint.disabled_at.is_(None),
            )
            .order_by(WebhookMessage.next_attempt_at)
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def claim(self, message_id: str) -> tuple[WebhookMessage, WebhookEndpoint] | None:
        """Lock the message for one attempt, or None if it is gone or another job holds it.

        The endpoint is locked first, in KEY SHARE mode: deleting the endpoint waits for
        the attempt instead of deadlocking with it, and concurrent attempts to one
        endpoint do not wait for each other.
        """
        endpoint_id = (
            await self.session.execute(
                select(WebhookMessage.endpoint_id).where(WebhookMessage.id == message_id)
            )
        ).scalar_one_or_none()
        if endpoint_id is None:
            return None
        endpoint = (
            await self.session.execute(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint_id)
                .with_for_update(read=True, key_share=True)
            )
        ).scalar_one_or_none()
        message = (
            await self.session.execute(
                select(WebhookMessage)
                .where(WebhookMessage.id == message_id)
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if endpoint is None or message is None:
            return None
        return message, endpoint

    def add_attempt(self, attempt: WebhookAttempt) -> None:
        self.session.add(attempt)

    async def disable(self, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
        """Disable the endpoint and fail its other pending messages (they can be
        recovered once it is enabled again); the job tells its owner."""
        endpoint.disabled_at = now
        endpoint.disabled_reason = reason[:300]
        in_flight_free = (
            select(WebhookMessage.id)
            .where(
                WebhookMessage.endpoint_id == endpoint.id,
                WebhookMessage.status == WebhookMessageStatus.PENDING,
            )
            # A message being attempted right now settles itself when its attempt ends.
            .with_for_update(skip_locked=True)
        )
        await self.session.execute(
            update(WebhookMessage)
            .where(WebhookMessage.id.in_(in_flight_free.scalar_subquery()))
            .values(status=WebhookMessageStatus.FAILED, next_attempt_at=None)
        )
