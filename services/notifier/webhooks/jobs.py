"""Webhook delivery jobs: one attempt per job run, retries as new deferred jobs, and a
cron that queues whatever is due (retries whose job was lost, redeliveries, recoveries)."""

import logging
from datetime import datetime, timedelta
from typing import Any

from arq import Retry
from arq.cron import cron
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.metrics import WEBHOOK_DELIVERIES
from rapport_common.models.enums import WebhookMessageStatus
from rapport_common.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage
from rapport_common.settings import Settings
from services.notifier.clock import now_of
from services.notifier.notifications.store import Draft, store
from services.notifier.queue import JobQueue
from services.notifier.webhooks import retries, sender
from services.notifier.webhooks.repository import DISABLED_NOTIFICATION, DeliveryRepository

logger = logging.getLogger(__name__)

DELIVER_JOB = "deliver_webhook"
# arq may start a deferred job a moment before the time it was deferred to.
DUE_SLACK = timedelta(seconds=1)
SWEEP_BATCH = 500


def job_id(message: WebhookMessage) -> str:
    """Names the message's next attempt: the same attempt is never queued twice, and a
    redelivery (a new generation) always gets a fresh id."""
    return f"webhook:{message.id}:{message.generation}:{message.attempts}"


async def enqueue(ctx: dict[str, Any], message: WebhookMessage) -> None:
    await JobQueue(ctx["redis"]).enqueue(
        DELIVER_JOB, job_id(message), message_id=message.id, _defer_until=message.next_attempt_at
    )


async def deliver_webhook(ctx: dict[str, Any], message_id: str) -> str:
    """Make the next attempt of one message, if it is still pending and due.

    Idempotent: the message row stays locked during the attempt (another job for the same
    message skips it); a message no longer pending, or not yet due, is left alone; and the
    attempt's log row is written in the transaction that records its outcome, so an
    attempt cut short by a crash leaves nothing behind and is made again under the same
    number and the same ``webhook-id``.
    """
    settings: Settings = ctx["settings"]
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    try:
        async with sessionmaker() as session, session.begin():
            deliveries = DeliveryRepository(session)
            claimed = await deliveries.claim(message_id)
            if claimed is None:
                return "gone, or being attempted by another job"
            message, endpoint = claimed
            now = now_of(ctx)
            if message.status != WebhookMessageStatus.PENDING:
                return f"already {message.status}"
            if message.next_attempt_at is not None and message.next_attempt_at > now + DUE_SLACK:
                return "not due yet"
            if endpoint.disabled_at is not None:
                message.status, message.next_attempt_at = WebhookMessageStatus.FAILED, None
                return "endpoint disabled"
            headers = sender.headers_for(
                message.id, endpoint.signing_secrets(now), message.body, now
            )
            outcome = await sender.attempt(
                endpoint.url, headers, message.body, settings.webhooks, now
            )
            result = await _record(deliveries, settings, message, endpoint, outcome, now)
            WEBHOOK_DELIVERIES.labels(_outcome_label(outcome)).inc()
    except (OSError, InterfaceError, OperationalError) as exc:
        # PostgreSQL is unreachable: nothing was recorded, so the attempt is made again.
        logger.warning("webhook delivery could not reach postgres: %s", exc)
        raise Retry(defer=min(300, 5 * ctx.get("job_try", 1))) from exc
    if message.status == WebhookMessageStatus.PENDING:
        await enqueue(ctx, message)
    return result


def _outcome_label(outcome: sender.Outcome) -> str:
    if outcome.succeeded:
        return "delivered"
    return "gone" if outcome.gone else "failed"


async def _record(
    deliveries: DeliveryRepository,
    settings: Settings,
    message: WebhookMessage,
    endpoint: WebhookEndpoint,
    outcome: sender.Outcome,
    now: datetime,
) -> str:
    message.attempts += 1
    deliveries.add_attempt(
        WebhookAttempt(
            message_id=message.id,
            endpoint_id=endpoint.id,
            attempt=message.attempts,
            attempted_at=now,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
        )
    )
    if outcome.succeeded:
        message.status, message.next_attempt_at = WebhookMessageStatus.SUCCEEDED, None
        endpoint.failing_since = None
        return f"attempt {message.attempts} delivered"
    endpoint.failing_since = endpoint.failing_since or now
    disable_after = timedelta(days=settings.webhooks.disable_after_days)
    reason = None
    if outcome.gone:
        reason = "The receiver answered 410 Gone, which asks us to stop sending."
    elif endpoint.failing_since <= now - disable_after:
        reason = (
            f"Every attempt has failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC "
            f"({settings.webhooks.disable_after_days:g} days or more)."
        )
    if reason is not None:
        message.status, message.next_attempt_at = WebhookMessageStatus.FAILED, None
        await deliveries.disable(endpoint, reason, now)
        await _tell_owner(deliveries, settings, endpoint, reason, now)
        return f"attempt {message.attempts} failed; endpoint disabled"
    delay = retries.next_delay(
        settings.webhooks.retry_schedule_seconds, message.round_failures, outcome.retry_after
    )
    message.round_failures += 1
    if delay is None:
        message.status, message.next_attempt_at = WebhookMessageStatus.FAILED, None
        return f"attempt {message.attempts} failed; no retries left"
    message.next_attempt_at = now + timedelta(seconds=delay)
    return f"attempt {message.attempts} failed; next in {delay:.0f} s"


async def _tell_owner(
    deliveries: DeliveryRepository,
    settings: Settings,
    endpoint: WebhookEndpoint,
    reason: str,
    now: datetime,
) -> None:
    """Store the owner's notification, in their words, as their preferences say; the
    unsent-email sweep emails it (not this job, which holds the endpoint's lock)."""
    draft = Draft(
        member_id=endpoint.member_id,
        kind=DISABLED_NOTIFICATION,
        dedupe_key=f"webhook-disabled:{endpoint.id}:{now.isoformat()}",
        facts={"url": endpoint.url, "reason": reason},
        data={"endpoint_id": str(endpoint.id), "reason": reason},
    )
    await store(deliveries.session, settings, [draft], now)


async def enqueue_due_deliveries(ctx: dict[str, Any]) -> int:
    """Cron: queue every pending message whose attempt is due, for redeliveries and
    recoveries asked through the API and for retries whose job Redis lost.

    Idempotent: a message's job id names its attempt, so one already queued (or running)
    is not queued again.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    async with sessionmaker() as session:
        due = await DeliveryRepository(session).due(now_of(ctx), SWEEP_BATCH)
    for message in due:
        await enqueue(ctx, message)
    return len(due)


# Often enough that a redelivery asked through the API starts within seconds.
SWEEP_CRON = cron(enqueue_due_deliveries, second=set(range(0, 60, 5)), unique=True)
