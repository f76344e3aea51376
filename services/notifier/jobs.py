"""Worker jobs. The queue delivers at least once, so each job here is idempotent."""

import logging
import uuid
from typing import Any

from arq import Retry
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.db import connection_lost
from rapport_common.logging import request_id_var
from rapport_common.outbox import OutboxEvent
from services.notifier.consumers import CONSUMERS, TransientError
from services.notifier.relay import requeue_stalled

logger = logging.getLogger(__name__)

# Seconds before try n+1; the last value repeats.
RETRY_BACKOFF_SECONDS = (1, 5, 15, 60, 300)


def backoff(job_try: int) -> int:
    return RETRY_BACKOFF_SECONDS[min(job_try, len(RETRY_BACKOFF_SECONDS)) - 1]


async def handle_event(ctx: dict[str, Any], event_id: str) -> str:
    """Deliver one outbox event to every consumer, then mark it completed.

    Idempotent: a completed event is skipped, the graph projection ignores an event
    it has already applied (outbox sequence guard), so a rerun after a crash at any
    point yields one effect. That is also why losing PostgreSQL midway is only a retry.
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
        envelope = event.envelope()
        token = request_id_var.set(envelope.request_id)
        try:
            for consumer in CONSUMERS:
                await consumer(ctx, envelope, session)
        except TransientError as exc:
            await session.rollback()
            await _note_failure(session, event_id, exc)
            raise Retry(defer=backoff(ctx["job_try"])) from exc
        finally:
            request_id_var.reset(token)
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == uuid.UUID(event_id))
            .values(completed_at=func.now(), attempts=OutboxEvent.attempts + 1, last_error=None)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return "completed"


async def _note_failure(session: AsyncSession, event_id: str, exc: Exception) -> None:
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == uuid.UUID(event_id))
        .values(attempts=OutboxEvent.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:1000])
    )
    await session.commit()


async def reconcile_outbox(ctx: dict[str, Any]) -> int:
    """Cron: put events that never completed back in front of the relay. Idempotent."""
    stalled = await requeue_stalled(
        ctx["sessionmaker"], ctx["settings"].outbox.reconcile_after_seconds
    )
    if stalled:
        logger.warning("re-relaying stalled events", extra={"count": len(stalled)})
        ctx["relay"].wake.set()
    return len(stalled)
