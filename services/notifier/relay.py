"""The outbox relay: hands each committed event to the queue, once, in order.

Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so several relays can run side by
side. What one claim finds goes on in jobs of up to ``EVENTS_PER_JOB`` events
(``handle_events``): a job costs about eight Redis round trips, whatever it carries. A
job's id names exactly its events (``batch_job_id``), so a relay that dies between
enqueuing and marking the rows re-enqueues, claiming the same events again, a job the
queue already holds, which the queue ignores; had more events come meanwhile, the new
job repeats the first one's events, which is harmless (every job is idempotent).
"""

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

import asyncpg
from asyncpg.exceptions import TargetServerAttributeNotMatched
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.outbox import OUTBOX_CHANNEL, OutboxEvent
from rapport_common.settings import OutboxSettings, PostgresSettings
from services.notifier.queue import JobQueue

logger = logging.getLogger(__name__)

HANDLE_EVENTS_JOB = "handle_events"
# The job of one event, as relays queued it before there were batches: still run.
HANDLE_EVENT_JOB = "handle_event"
REQUEUE_BATCH = 1000
# Events per job: few enough that a failing one holds little up, enough that the queue's
# cost per event is small. A backlog fills them; at a trickle a job carries what came.
EVENTS_PER_JOB = 25


def event_job_id(event_id: uuid.UUID, requeues: int) -> str:
    """The event id, then a new id each time the reconciler relays the event again: the
    queue ignores an id whose finished job it still remembers (for an hour), so the same
    id would make that relay a no-op."""
    return str(event_id) if requeues == 0 else f"{event_id}:{requeues}"


def batch_job_id(event_job_ids: Sequence[str], salt: str = "") -> str:
    """The id of the job carrying these events (their ``event_job_id``s, in order): the
    first one's, and a digest of them all, so the same events make the same id and
    other events another one. A job handing some of its events on to another salts it
    with its own id, as the same events may be its own."""
    named = "\n".join([salt, *event_job_ids]).encode()
    return f"events:{event_job_ids[0]}:{hashlib.blake2b(named, digest_size=8).hexdigest()}"


async def enqueue_events(
    queue: JobQueue, events: Sequence[tuple[uuid.UUID, int]], salt: str = ""
) -> None:
    """Queue ``handle_events`` for these (event id, requeues), ``EVENTS_PER_JOB`` a job."""
    for start in range(0, len(events), EVENTS_PER_JOB):
        chunk = events[start : start + EVENTS_PER_JOB]
        job_id = batch_job_id([event_job_id(i, requeues) for i, requeues in chunk], salt)
        await queue.enqueue(
            HANDLE_EVENTS_JOB, job_id, event_ids=[str(event_id) for event_id, _ in chunk]
        )


async def events_waiting(queue: JobQueue, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``event_ids`` that a job still queued, deferred for a retry or running
    carries."""
    if not event_ids:
        return set()
    carried: set[str] = set()
    for job, arguments in await queue.waiting(HANDLE_EVENTS_JOB, HANDLE_EVENT_JOB):
        if job == HANDLE_EVENTS_JOB:
            carried.update(arguments.get("event_ids", ()))
        else:
            carried.add(arguments.get("event_id", ""))
    return {event_id for event_id in event_ids if str(event_id) in carried}


async def relay_pending(
    sessionmaker: async_sessionmaker[AsyncSession], queue: JobQueue, batch_size: int
) -> int:
    """Relay every unrelayed event; return how many were handed on."""
    relayed = 0
    while True:
        async with sessionmaker() as session, session.begin():
            claimed = (
                await session.execute(
                    select(OutboxEvent.id, OutboxEvent.requeues)
                    .where(OutboxEvent.relayed_at.is_(None))
                    .order_by(OutboxEvent.sequence)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not claimed:
                return relayed
            await enqueue_events(queue, [(event_id, requeues) for event_id, requeues in claimed])
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_([event_id for event_id, _ in claimed]))
                .values(relayed_at=func.now())
            )
        relayed += len(claimed)
        if len(claimed) < batch_size:
            # Nothing more was committed when we looked; what commits later sends a
            # NOTIFY, which runs this again, so a second, empty claim would be wasted.
            return relayed


async def requeue_stalled(
    sessionmaker: async_sessionmaker[AsyncSession],
    older_than_seconds: float,
    queue: JobQueue | None = None,
    max_requeues: int | None = None,
) -> list[uuid.UUID]:
    """Mark events relayed long ago but never completed for relaying again; return them.

    This is what lets the system catch up after Redis lost its data, or after a job
    ended without completing its event (it timed out, or gave up): PostgreSQL still knows
    which events have not been handled. The age is measured on PostgreSQL's clock, the
    one that stamped ``relayed_at``. With ``queue``, an event whose job is still queued,
    waiting for a retry or running is left to it; with ``max_requeues``, an event
    relayed again that many times is dead-lettered instead. Dead events stay where they
    are until an operator retries them.
    """
    async with sessionmaker() as session, session.begin():
        stalled: list[tuple[uuid.UUID, int]] = [
            (row.id, row.requeues)
            for row in await session.execute(
                select(OutboxEvent.id, OutboxEvent.requeues)
                .where(
                    OutboxEvent.completed_at.is_(None),
                    OutboxEvent.dead_at.is_(None),
                    OutboxEvent.relayed_at < func.now() - timedelta(seconds=older_than_seconds),
                )
                .order_by(OutboxEvent.relayed_at)
                .limit(REQUEUE_BATCH)
                .with_for_update(skip_locked=True)
            )
        ]
        if queue is not None:
            waiting = await events_waiting(queue, [i for i, _ in stalled])
            stalled = [(i, n) for i, n in stalled if i not in waiting]
        spent = {i for i, n in stalled if max_requeues is not None and n >= max_requeues}
        again = [i for i, _ in stalled if i not in spent]
        if spent:
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(spent))
                .values(
                    dead_at=func.now(),
                    last_error=func.coalesce(
                        OutboxEvent.last_error,
                        "its job kept ending without completing it (timed out, or lost)",
                    ),
                )
            )
            logger.error(
                "outbox events dead-lettered", extra={"event_ids": [str(i) for i in spent]}
            )
        if again:
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(again))
                .values(relayed_at=None, requeues=OutboxEvent.requeues + 1)
            )
        return again


class OutboxRelay:
    """Runs until cancelled: woken by NOTIFY, with a poll as the fallback."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        queue: JobQueue,
        postgres: PostgresSettings,
        settings: OutboxSettings,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.queue = queue
        self.postgres = postgres
        self.settings = settings
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            listener = await self._listen()
            try:
                while True:
                    try:
                        await relay_pending(self.sessionmaker, self.queue, self.settings.batch_size)
                    except Exception as exc:  # the relay outlives any store's outage
                        logger.warning(
                            "outbox relay could not relay: %s: %s", type(exc).__name__, exc
                        )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self.wake.wait(), self.settings.poll_interval_seconds
                        )
                    self.wake.clear()
                    if listener is None or listener.is_closed():
                        break
            finally:
                if listener is not None and not listener.is_closed():
                    await listener.close()

    async def _listen(self) -> asyncpg.Connection | None:
        """Open the LISTEN connection; without it the relay still polls."""
        try:
            # The primary among the configured servers (target_session_attrs), so
            # NOTIFYs of commits are heard again after a failover.
            connection = await asyncpg.connect(**self.postgres.connect_arguments(), timeout=5)
        except (OSError, asyncpg.PostgresError, TargetServerAttributeNotMatched) as exc:
            logger.warning(
                "outbox relay cannot LISTEN on postgres at %s (%s); polling every %.0f s",
                self.postgres.address,
                exc,
                self.settings.poll_interval_seconds,
            )
            return None
        await connection.add_listener(OUTBOX_CHANNEL, lambda *_: self.wake.set())
        return connection
