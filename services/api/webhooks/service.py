"""A member's webhook endpoints: registration behind the SSRF guard, secret rotation,
redelivery, recovery and re-enabling."""

from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError

from rapport_common.models.enums import WebhookMessageStatus
from rapport_common.models.members import Member
from rapport_common.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage
from rapport_common.settings import WebhookSettings
from rapport_common.web.problems import Conflict, NotFound, Problem
from rapport_common.webhooks import ssrf
from rapport_common.webhooks.signing import generate_secret
from services.api.webhooks.repository import WebhookRepository
from services.api.webhooks.schemas import (
    DeliveryOut,
    EndpointIn,
    EndpointOut,
    MessageOut,
)

MAX_ENDPOINTS_PER_MEMBER = 20
LOCK_NOT_AVAILABLE = "55P03"


class UnsafeWebhookUrl(Problem):
    status, slug, title = 422, "unsafe-webhook-url", "The webhook URL is not allowed"


class TooManyEndpoints(Conflict):
    slug, title = "webhook-endpoint-limit", "Too many webhook endpoints"


class EndpointDisabled(Conflict):
    slug, title = "webhook-endpoint-disabled", "The webhook endpoint is disabled"


class DeliveryInProgress(Conflict):
    slug, title = "webhook-delivery-in-progress", "The message is being delivered"


async def check_url(url: str, settings: WebhookSettings) -> None:
    try:
        await ssrf.resolve(url, settings.allow_loopback)
    except ssrf.UnsafeUrl as exc:
        raise UnsafeWebhookUrl(f"{exc.detail} (rule: {exc.rule})", rule=exc.rule) from exc


async def create(
    repository: WebhookRepository,
    me: Member,
    data: EndpointIn,
    settings: WebhookSettings,
    now: datetime,
) -> WebhookEndpoint:
    await check_url(data.url, settings)
    await repository.lock_member(me.id)
    if await repository.count_for(me.id) >= MAX_ENDPOINTS_PER_MEMBER:
        raise TooManyEndpoints(
            f"You can have {MAX_ENDPOINTS_PER_MEMBER} webhook endpoints; delete one first."
        )
    return await repository.add(
        WebhookEndpoint(
            member_id=me.id,
            url=data.url,
            description=data.description,
            event_types=list(data.event_types),
            secret=generate_secret(),
            created_at=now,
            updated_at=now,
        )
    )


def rotate_secret(endpoint: WebhookEndpoint, settings: WebhookSettings, now: datetime) -> None:
    """The new secret signs at once; the old one signs alongside it during the grace
    period, so receivers can switch without losing a message. A third secret is never
    kept: rotating again within the grace period drops the oldest."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(hours=settings.rotation_grace_hours)
    endpoint.secret = generate_secret()


def enable(endpoint: WebhookEndpoint) -> None:
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    endpoint.failing_since = None


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if endpoint.disabled_at is not None:
        raise EndpointDisabled(
            f"Endpoint {endpoint.id} is disabled ({endpoint.disabled_reason}); enable it first."
        )


async def redeliver(
    repository: WebhookRepository, endpoint: WebhookEndpoint, message_id: str, now: datetime
) -> WebhookMessage:
    """Queue the message again with a fresh retry schedule, whatever its state."""
    _require_enabled(endpoint)
    try:
        message = await repository.message_for_update(endpoint.id, message_id)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise DeliveryInProgress(
            f"Message {message_id} is being delivered right now; ask again in a moment.",
            headers={"Retry-After": "15"},
        ) from exc
    if message is None:
        raise NotFound(f"Endpoint {endpoint.id} has no message {message_id}.")
    message.status = WebhookMessageStatus.PENDING
    message.round_failures = 0
    message.generation += 1
    message.next_attempt_at = now
    return message


async def recover(
    repository: WebhookRepository, endpoint: WebhookEndpoint, since: datetime, now: datetime
) -> int:
    _require_enabled(endpoint)
    return await repository.restart_failed_since(endpoint.id, since, now)


def view(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(
        {
            "endpoint_id": endpoint.id,
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "enabled": endpoint.disabled_at is None,
            "disabled_at": endpoint.disabled_at,
            "disabled_reason": endpoint.disabled_reason,
            "failing_since": endpoint.failing_since,
            "previous_secret_expires_at": endpoint.previous_secret_expires_at,
            "created_at": endpoint.created_at,
        }
    )


def message_view(message: WebhookMessage) -> MessageOut:
    return MessageOut.model_validate(
        {
            "message_id": message.id,
            "event_type": message.event_type,
            "status": message.status,
            "attempts": message.attempts,
            "next_attempt_at": message.next_attempt_at,
            "created_at": message.created_at,
        }
    )


def delivery_view(attempt: WebhookAttempt, event_type: str) -> DeliveryOut:
    code = attempt.status_code
    return DeliveryOut.model_validate(
        {
            "attempt_id": attempt.id,
            "message_id": attempt.message_id,
            "event_type": event_type,
            "attempt": attempt.attempt,
            "attempted_at": attempt.attempted_at,
            "status_code": code,
            "error": attempt.error,
            "duration_ms": attempt.duration_ms,
            "succeeded": code is not None and 200 <= code < 300,
        }
    )
