"""The reconciler relays again an event whose job ended without completing it, under a
new job id, leaves alone one whose job is still queued, and never relays a dead one."""

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.outbox import OutboxEvent
from services.notifier.queue import JobQueue
from services.notifier.relay import HANDLE_EVENT_JOB, relay_pending, requeue_stalled
from tests.factories import register
from tests.notifier.conftest import RunWorker

Sessions = async_sessionmaker[AsyncSession]


async def _event(db: Sessions) -> OutboxEvent:
    """The registration's member.registered (its verification email's event is the
    other one, which no graph consumer holds up)."""
    async with db() as session:
        registered = select(OutboxEvent).where(OutboxEvent.type == "member.registered")
        return (await session.execute(registered)).scalar_one()


async def _queued(queue: JobQueue) -> list[str | None]:
    return [job.job_id for job in await queue.redis.queued_jobs()]


async def test_an_event_whose_job_gave_up_is_relayed_under_a_new_job_id(
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    queue: JobQueue,
    run_worker_with: RunWorker,
    graph_down: httpx.AsyncClient,
) -> None:
    await register(committed_client)
    # The graph is down and arq gives the job one try: it ends, the event undone.
    await run_worker_with(graph=graph_down, max_tries=1)
    event = await _event(committed_db)
    assert event.completed_at is None and event.dead_at is None and event.attempts == 1
    # The same id again is what used to happen: the queue ignores it for an hour.
    assert not await queue.enqueue(HANDLE_EVENT_JOB, str(event.id), event_id=str(event.id))

    assert await requeue_stalled(committed_db, 0, queue) == [event.id]
    assert await relay_pending(committed_db, queue, batch_size=10) == 1

    assert await _queued(queue) == [f"{event.id}:1"]
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
