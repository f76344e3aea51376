"""Worker jobs. The queue delivers at least once, so each job here is idempotent."""

import logging
import uuid
from typing import Any

from arq import Retry
from sqlalchemy import case, func, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.db import connection_lost
from rapport_common.events import EventEnvelope
from rapport_common.logging import request_id_var
from rapport_common.outbox import OutboxEvent
from services.notifier.consumers import CONCERNS, CONSUMERS, TransientError
from services.notifier.queue import JobQueue
from services.notifier.relay import requeue_stalled

logger = logging.getLogger(__name__)

# Seconds before try n+1; the last value repeats.
RETRY_BACKOFF_SECONDS = (1, 5, 15, 60, 300)
ERROR_LENGTH = 1000


def backoff(job_try: int) -> int:
    return RETRY_BACKOFF_SECONDS[min(job_try, len(RETRY_BACKOFF_SECONDS)) - 1]


async def handle_event(ctx: dict[str, Any], event_id: str) -> str:
    """Deliver one outbox event to each consumer not yet done with it, and mark it
    completed once all are. When one fails, the others still run; the attempt is counted
    and the event retried, until ``worker.max_tries`` failed attempts dead-letter it.

    Idempotent: a completed or dead event is skipped, a consumer recorded as done is not
    run again, and every consumer is idempotent itself (the graph projection ignores an
    event it has already applied), so a rerun after a crash at any point yields one
    effect. That is also why losing PostgreSQL midway is only a retry.
    """
    try:
        return await _handle_event(ctx, event_id)
    except Exception as exc:
        if not connection_lost(exc):
            raise
        logger.warning("event %s could not reach postgres: %s", event_id, exc)
        raise Retry(defer=backoff(ctx["job_try"])) from exc


async def _handle_event(ctx: dict[str, Any], event_id: str) -> str:
    # One session for the whole event: each checkout and transaction is a round trip.
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    async with sessionmaker() as session:
        event = await session.get(OutboxEvent, uuid.UUID(event_id))
        if event is None:
            return "unknown event"
        if event.completed_at is not None:
            return "already completed"
        if event.dead_at is not None:
            return "dead-lettered; an operator retries it with `rapport outbox retry`"
        envelope, done_before = event.envelope(), list(event.consumed_by)
        token = request_id_var.set(envelope.request_id)
        try:
            done, failures = await _consume(ctx, envelope, session, done_before)
        finally:
            request_id_var.reset(token)
        if not failures:
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == envelope.event_id)
                .values(
                    completed_at=func.now(),
                    attempts=OutboxEvent.attempts + 1,
                    last_error=None,
                    consumed_by=done,
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
            return "completed"
        dead = await _note_failure(
            session, envelope, done, failures, ctx["settings"].worker.max_tries
        )
    if dead:
        return f"dead-lettered: {', '.join(failures)} kept failing"
    raise Retry(defer=backoff(ctx["job_try"]))


async def _consume(
    ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession, done_before: list[str]
) -> tuple[list[str], dict[str, Exception]]:
    """Run each consumer not done yet; return those done, and the failures by name.
    One the event does not concern is done with it at once (it would do nothing)."""
    done, failures = list(done_before), {}
    previous_succeeded = False
    for name, consumer in CONSUMERS.items():
        if name in done:
            continue
        if not CONCERNS[name](envelope):
            done.append(name)
            continue
        if previous_succeeded and session.in_transaction():
            # What the previous consumer left uncommitted is its own finished work: this
            # one's failure must not roll it back.
            await session.commit()
        try:
            await consumer(ctx, envelope, session)
        except Exception as exc:
            if connection_lost(exc):
                raise
            await session.rollback()
            failures[name] = exc
            previous_succeeded = False
            _log_failure(envelope, name, exc)
        else:
            done.append(name)
            previous_succeeded = True
    return done, failures


def _log_failure(envelope: EventEnvelope, consumer: str, exc: Exception) -> None:
    details = {"event_id": str(envelope.event_id), "type": envelope.type, "consumer": consumer}
    if isinstance(exc, TransientError):
        logger.warning("consumer failed, will retry: %s", exc, extra=details)
    else:
        logger.error("consumer failed", exc_info=exc, extra=details)


async def _note_failure(
    session: AsyncSession,
    envelope: EventEnvelope,
    done: list[str],
    failures: dict[str, Exception],
    max_attempts: int,
) -> bool:
    """Record what is done, count the attempt and say why it failed; return whether the
    event is now dead-lettered."""
    error = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in failures.items())
    attempts = OutboxEvent.attempts + 1
    dead_at = (
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == envelope.event_id)
            .values(
                attempts=attempts,
                last_error=error[:ERROR_LENGTH],
                consumed_by=done,
                dead_at=case((attempts >= max_attempts, func.now()), else_=None),
            )
            .returning(OutboxEvent.dead_at)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    await session.commit()
    if dead_at is not None:
        logger.error(
            "outbox event dead-lettered",
            extra={"event_id": str(envelope.event_id), "type": envelope.type, "error": error},
        )
    return dead_at is not None


async def reconcile_outbox(ctx: dict[str, Any]) -> int:
    """Cron: put events that never completed, and whose job is gone, back in front of the
    relay; dead-letter one put back ``worker.max_tries`` times already. Idempotent."""
    stalled = await requeue_stalled(
        ctx["sessionmaker"],
        ctx["settings"].outbox.reconcile_after_seconds,
        JobQueue(ctx["redis"]),
        max_requeues=ctx["settings"].worker.max_tries,
    )
    if stalled:
        logger.warning("re-relaying stalled events", extra={"count": len(stalled)})
        ctx["relay"].wake.set()
    return len(stalled)
