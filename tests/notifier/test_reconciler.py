"""The reconciler relays again an event whose job ended without completing it, under a
new job id, leaves alone one whose job is still queued, and never relays a dead one; a
job's events still waiting for their turn late in its time go on in a job of their own."""

from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.notifier.jobs import handle_events
from services.notifier.queue import JobQueue
from services.notifier.relay import (
    HANDLE_EVENTS_JOB,
    batch_job_id,
    relay_pending,
    requeue_stalled,
)
from tests.conftest import RunWorker
from tests.factories import register

Sessions = async_sessionmaker[AsyncSession]


async def _event(db: Sessions) -> OutboxEvent:
    """The registration's member.registered (its verification email's event is the
    other one, which no graph consumer holds up)."""
    async with db() as session:
        registered = select(OutboxEvent).where(OutboxEvent.type == "member.registered")
        return (await session.execute(registered)).scalar_one()


async def _queued(queue: JobQueue) -> list[tuple[str | None, list[str]]]:
    """Each queued job's id, with the events it carries."""
    return [(job.job_id, job.kwargs["event_ids"]) for job in await queue.redis.queued_jobs()]


async def _all_events(db: Sessions) -> list[OutboxEvent]:
    async with db() as session:
        events = await session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence))
        return list(events.scalars())


async def test_an_event_whose_job_gave_up_is_relayed_under_a_new_job_id(
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    queue: JobQueue,
    run_worker: RunWorker,
    graph_down: httpx.AsyncClient,
) -> None:
    await register(committed_client)
    relayed = [str(event.id) for event in await _all_events(committed_db)]
    # The graph is down and arq gives the job one try: it ends, the event undone (the
    # other event of its job, the verification email's, is done).
    await run_worker(graph=graph_down, max_tries=1)
    event = await _event(committed_db)
    assert event.completed_at is None and event.dead_at is None and event.attempts == 1
    # The same id again is what used to happen: the queue ignores it for an hour.
    same = batch_job_id(relayed)
    assert not await queue.enqueue(HANDLE_EVENTS_JOB, same, event_ids=relayed)

    assert await requeue_stalled(committed_db, 0, queue) == [event.id]
    assert await relay_pending(committed_db, queue, batch_size=10) == 1

    assert await _queued(queue) == [(batch_job_id([f"{event.id}:1"]), [str(event.id)])]
    assert (await _event(committed_db)).requeues == 1


async def test_an_event_whose_job_is_still_queued_is_left_to_it(
    committed_client: httpx.AsyncClient, committed_db: Sessions, queue: JobQueue
) -> None:
    await register(committed_client)
    await relay_pending(committed_db, queue, batch_size=10)

    assert await requeue_stalled(committed_db, 0, queue) == []
    assert (await _event(committed_db)).relayed_at is not None


async def test_a_dead_event_is_never_relayed_again(
    committed_client: httpx.AsyncClient, committed_db: Sessions, queue: JobQueue
) -> None:
    await register(committed_client)
    await relay_pending(committed_db, queue, batch_size=10)
    await queue.redis.flushdb()
    async with committed_db() as session, session.begin():
        await session.execute(update(OutboxEvent).values(dead_at=OutboxEvent.relayed_at))

    assert await requeue_stalled(committed_db, 0, queue) == []
    assert await relay_pending(committed_db, queue, batch_size=10) == 0


async def test_an_event_relayed_again_too_often_is_dead_lettered(
    committed_client: httpx.AsyncClient, committed_db: Sessions, queue: JobQueue
) -> None:
    await register(committed_client)
    await relay_pending(committed_db, queue, batch_size=10)
    await queue.redis.flushdb()
    async with committed_db() as session, session.begin():
        await session.execute(update(OutboxEvent).values(requeues=3))

    assert await requeue_stalled(committed_db, 0, queue, max_requeues=3) == []

    event = await _event(committed_db)
    assert event.dead_at is not None and event.completed_at is None
    assert "kept ending without completing it" in (event.last_error or "")


async def test_events_left_waiting_late_in_a_job_go_on_in_a_job_of_their_own(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    queue: JobQueue,
    worker_ctx: dict[str, Any],
    graph_client: httpx.AsyncClient,
) -> None:
    await register(committed_client, name="Ada Lovelace")
    await register(committed_client, name="Grace Hopper")
    events = [str(event.id) for event in await _all_events(committed_db)]
    # No time at all: the first event runs, the others go on in another job.
    hurried = settings.model_copy(
        update={"worker": settings.worker.model_copy(update={"job_timeout_seconds": 0})}
    )
    ctx = worker_ctx | {
        "settings": hurried,
        "graph_client": graph_client,
        "redis": queue.redis,
        "job_id": "events:first",
        "job_try": 1,
    }

    outcome = await handle_events(ctx, events)

    assert outcome == f"1 completed, {len(events) - 1} handed on"
    completed = [str(e.id) for e in await _all_events(committed_db) if e.completed_at is not None]
    assert completed == events[:1]
    [(job_id, carried)] = await _queued(queue)
    assert carried == events[1:]
    assert job_id not in (None, batch_job_id(events), batch_job_id(events[1:]))
    # Run in its turn, that job finishes them.
    assert await handle_events(ctx | {"settings": settings}, carried) == (
        f"{len(events) - 1} completed"
    )
    assert all(e.completed_at is not None for e in await _all_events(committed_db))
