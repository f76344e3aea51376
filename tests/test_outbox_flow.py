"""The outbox end to end: API -> outbox -> relay -> arq job -> graph service -> Neo4j."""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.events import EventEnvelope
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.graph import queries
from services.graph.database import Graph
from services.notifier.queue import JobQueue
from services.notifier.relay import OutboxRelay, relay_pending, requeue_stalled
from tests.conftest import eventually
from tests.factories import register


async def _relay_is_listening(db: async_sessionmaker[AsyncSession]) -> bool:
    """Whether some connection has run LISTEN on the outbox channel, as the relay does."""
    async with db() as session:
        listening = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
            )
        )
    return bool(listening)


async def _queued_events(queue: JobQueue) -> list[str]:
    """The events the queued jobs carry (a job carries what one relay claim found)."""
    return [event for job in await queue.redis.queued_jobs() for event in job.kwargs["event_ids"]]


# A registration writes member.registered and account.email_verification_requested.
REGISTRATION_EVENTS = 2


async def test_one_event_travels_from_the_api_to_neo4j(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    graph: Graph,
    run_worker: Callable[[], Awaitable[None]],
) -> None:
    member_id = await register(committed_client, name="Alan Turing")

    assert await relay_pending(committed_db, queue, batch_size=10) == REGISTRATION_EVENTS
    await run_worker()

    nodes = await graph.read(queries.GET_MEMBER, member_id=str(member_id))
    assert [node["name"] for node in nodes] == ["Alan Turing"]
    async with committed_db() as session:
        registered = select(OutboxEvent).where(OutboxEvent.type == "member.registered")
        event = (await session.execute(registered)).scalar_one()
    assert event.relayed_at is not None and event.completed_at is not None


async def test_notify_wakes_the_relay_without_waiting_for_the_poll(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    queue: JobQueue,
) -> None:
    slow_poll = settings.outbox.model_copy(update={"poll_interval_seconds": 300})
    relay = OutboxRelay(committed_db, queue, settings.postgres, slow_poll)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _relay_is_listening(committed_db), within=5)
        await register(committed_client)

        async def all_queued() -> list[str]:
            queued = await _queued_events(queue)
            return queued if len(queued) == REGISTRATION_EVENTS else []

        queued = await eventually(all_queued, within=5)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    async with committed_db() as session:
        event_ids = (await session.execute(select(OutboxEvent.id))).scalars().all()
    assert sorted(queued) == sorted(str(event_id) for event_id in event_ids)


async def test_relaying_the_same_events_twice_queues_one_job(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    queue: JobQueue,
) -> None:
    await register(committed_client)
    await relay_pending(committed_db, queue, batch_size=10)
    # As if the relay died after enqueuing but before marking the row.
    async with committed_db() as session, session.begin():
        await session.execute(update(OutboxEvent).values(relayed_at=None))
    assert await relay_pending(committed_db, queue, batch_size=10) == REGISTRATION_EVENTS
    assert len(await queue.redis.queued_jobs()) == 1
    assert len(await _queued_events(queue)) == REGISTRATION_EVENTS


async def test_reconciler_puts_stalled_events_back_for_the_relay(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    queue: JobQueue,
) -> None:
    await register(committed_client)
    await relay_pending(committed_db, queue, batch_size=10)
    await queue.redis.flushdb()  # Redis lost its data

    assert len(await requeue_stalled(committed_db, older_than_seconds=0)) == REGISTRATION_EVENTS
    assert await relay_pending(committed_db, queue, batch_size=10) == REGISTRATION_EVENTS
    assert len(await _queued_events(queue)) == REGISTRATION_EVENTS


def _member_event(sequence: int, name: str, member_id: uuid.UUID) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        sequence=sequence,
        type="member.updated",
        version=1,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        payload={
            "member_id": str(member_id),
            "name": name,
            "is_recruiter": False,
            "allows_introductions": True,
        },
    )


async def test_projection_ignores_replayed_and_stale_events(
    graph_client: httpx.AsyncClient, graph: Graph
) -> None:
    member_id = uuid.uuid4()
    newer = _member_event(5, "New Name", member_id)
    older = _member_event(3, "Old Name", member_id)
    for envelope in (newer, newer, older):
        response = await graph_client.post(
            "/internal/v1/events", json=envelope.model_dump(mode="json")
        )
        assert response.status_code == 200
    nodes = await graph.read(queries.GET_MEMBER, member_id=str(member_id))
    assert [(n["name"], n["event_seq"]) for n in nodes] == [("New Name", 5)]
