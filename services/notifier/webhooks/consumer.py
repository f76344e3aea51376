"""Turns outbox events into webhook messages, one per subscribed endpoint."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import EventEnvelope
from rapport_common.models.enums import WebhookMessageStatus
from services.notifier.clock import now_of
from services.notifier.erasure.guard import held
from services.notifier.webhooks.jobs import enqueue
from services.notifier.webhooks.repository import DeliveryRepository
from services.notifier.webhooks.routing import Route, may_route, route

# Message ids derive from (event, endpoint), so a rerun names the same message.
MESSAGE_NAMESPACE = uuid.UUID("5f0a4a52-4c0e-4d8e-9a57-2f1f0c8f7b61")


def message_id(event_id: uuid.UUID, endpoint_id: uuid.UUID) -> str:
    return "msg_" + uuid.uuid5(MESSAGE_NAMESPACE, f"{event_id}:{endpoint_id}").hex


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body_of(target: Route, occurred_at: datetime) -> str:
    """The exact text signed and sent, the same on every attempt."""
    data = target.data.model_dump(mode="json")
    envelope = {"type": target.event_type, "timestamp": _timestamp(occurred_at), "data": data}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def concerns(envelope: EventEnvelope) -> bool:
    """Whether ``fan_out`` may have anything to do with the event."""
    return may_route(envelope)


async def fan_out(ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession) -> None:
    """Create a message for each endpoint subscribed to the event's webhook types and
    queue its first attempt.

    Idempotent: messages are unique per (event id, endpoint id) and inserted with ON
    CONFLICT DO NOTHING, and each job id names its message's attempt, so a rerun creates
    and queues nothing new (and queues what a crash left unqueued; so does the sweep).
    """
    routes = route(envelope)
    if not routes:
        return
    recipients = {r.member_id for r in routes}
    present = held(session)
    if present is not None and recipients <= present.members.keys() - present.with_endpoints:
        return  # none has an endpoint, as the erasure guard's lock read just now
    now = now_of(ctx)
    deliveries = DeliveryRepository(session)
    endpoints = await deliveries.subscribed(
        recipients, {r.event_type for r in routes}, envelope.occurred_at
    )
    if not endpoints:
        return  # most members have none
    rows = [
        {
            "id": message_id(envelope.event_id, endpoint.id),
            "endpoint_id": endpoint.id,
            "event_id": envelope.event_id,
            "event_type": target.event_type,
            "body": body_of(target, envelope.occurred_at),
            # Kept for a disabled endpoint, as failed: recoverable once it is enabled.
            "status": (
                WebhookMessageStatus.FAILED
                if endpoint.disabled_at
                else WebhookMessageStatus.PENDING
            ),
            "next_attempt_at": None if endpoint.disabled_at else now,
            "created_at": now,
        }
        for target in routes
        for endpoint in endpoints
        if endpoint.member_id == target.member_id and target.event_type in endpoint.event_types
    ]
    await deliveries.add_messages(rows)
    pending = await deliveries.pending_of_event(envelope.event_id)
    await session.commit()  # a queued attempt must find its message
    for message in pending:
        await enqueue(ctx, message)
