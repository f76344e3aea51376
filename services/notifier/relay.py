"""The outbox relay: hands each committed event to the queue, once, in order.

Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so several relays can run side by
side. The event id is the job id, so a relay that dies between enqueuing and marking
the row re-enqueues a job the queue already holds, which the queue ignores.
"""

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

import asyncpg
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.outbox import OUTBOX_CHANNEL, OutboxEvent
from rapport_common.settings import OutboxSettings, PostgresSettings
from services.notifier.queue import JobQueue

logger = logging.getLogger(__name__)

HANDLE_EVENT_JOB = "handle_event"


async def relay_pending(
    sessionmaker: async_sessionmaker[AsyncSession], queue: JobQueue, batch_size: int
) -> int:
    """Relay every unrelayed event; return how many were handed on."""
    relayed = 0
    while True:
        async with sessionmaker() as session, session.begin():
            claimed = (
                (
                    await session.execute(
                        select(OutboxEvent.id)
                        .where(OutboxEvent.relayed_at.is_(None))
                        .order_by(OutboxEvent.sequence)
                        .limit(batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            if not claimed:
                return relayed
            for event_id in claimed:
                await queue.enqueue(HANDLE_EVENT_JOB, str(event_id), event_id=str(event_id))
            await session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(claimed)).values(relayed_at=func.now())
            )
        relayed += len(claimed)
        if len(claimed) < batch_size:
            # Nothing more was committed when we looked; what commits later sends a
            # NOTIFY, which runs this again, so a second, empty claim would be wasted.
            return relayed


async def requeue_stalled(
    sessionmaker: async_sessionmaker[AsyncSession], older_than_seconds: float
) -> list[uuid.UUID]:
    """Mark events relayed long ago but never completed for relaying again.

    This is what lets the system catch up after Redis lost its data: PostgreSQL
    still knows which events have not been handled. The age is measured on
    PostgreSQL's clock, the one that stamped ``relayed_at``.
    """
    async with sessionmaker() as session, session.begin():
        rows = await session.execute(
            update(OutboxEvent)
            .where(
                OutboxEvent.completed_at.is_(None),
                OutboxEvent.relayed_at < func.now() - timedelta(seconds=older_than_seconds),
            )
            .values(relayed_at=None)
            .returning(OutboxEvent.id)
        )
        return list(rows.scalars().all())


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
            connection = await asyncpg.connect(
                host=self.postgres.host,
                port=self.postgres.port,
                user=self.postgres.user,
                password=self.postgres.password.get_secret_value(),
                database=self.postgres.database,
                timeout=5,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning(
                "outbox relay cannot LISTEN on postgres at %s (%s); polling every %.0f s",
                self.postgres.address,
                exc,
                self.settings.poll_interval_seconds,
            )
            return None
        await connection.add_listener(OUTBOX_CHANNEL, lambda *_: self.wake.set())
        return connection
