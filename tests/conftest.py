"""Fixtures on the real test stack (``RAPPORT_STACK=test``: its own PostgreSQL, Redis,
Neo4j and SMTP catcher). ``make test`` starts it and puts its settings in the environment.

Isolation: PostgreSQL tests run in a transaction that is rolled back; tests that
need real commits (the relay, the worker) use ``committed_db``, which empties the
tables afterwards; Neo4j is wiped and Redis flushed before the tests that use them.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from rapport_common.clock import Clock, system_clock
from rapport_common.clock import SteppingClock as SteppingClock
from rapport_common.db import create_engine, create_sessionmaker
from rapport_common.models.members import Member
from rapport_common.models.notifications import Notification
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.api.deps import get_session
from services.api.main import create_app as create_api_app
from services.graph.database import Graph, create_driver
from services.graph.main import create_app as create_graph_app
from services.notifier.queue import JobQueue
from services.notifier.relay import relay_pending
from services.notifier.worker import build_worker
from tests.factories import ApiClient

TEST_DATABASE = "rapport_test"

if os.environ.get("RAPPORT_ENVIRONMENT") != "test":
    raise pytest.UsageError(
        "run the tests with 'make test': it starts the test stack and sets RAPPORT_* for it"
    )


@pytest.fixture(scope="session")
def settings() -> Settings:
    base = Settings()
    return base.model_copy(
        update={"postgres": base.postgres.model_copy(update={"database": TEST_DATABASE})}
    )


async def recreate_database(settings: Settings, name: str, *, create: bool = True) -> None:
    """Drop the database ``name`` (whoever is connected) and, with ``create``, make it anew."""
    connection = await asyncpg.connect(**settings.postgres.connect_arguments("postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _migrate(settings: Settings) -> None:
    config = Config("alembic.ini")
    config.attributes["url"] = settings.postgres.url()
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """One database for the run, built by the migrations themselves."""
    await recreate_database(settings, TEST_DATABASE)
    await asyncio.to_thread(_migrate, settings)
    engine = create_engine(settings.postgres)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
async def db_session(db_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints inside the test's rolled-back transaction."""
    session = AsyncSession(
        bind=db_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    yield session
    await session.close()


@pytest.fixture
async def committed_db(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Real commits (for LISTEN/NOTIFY, the relay and the worker); tables emptied after."""
    yield create_sessionmaker(engine)
    async with engine.begin() as connection:
        tables = await connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        )
        names = ", ".join(f'"{name}"' for name in tables.scalars())
        await connection.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture
async def graph(settings: Settings) -> AsyncIterator[Graph]:
    """The test Neo4j, emptied before the test."""
    driver = create_driver(settings.neo4j)
    handle = Graph(driver, settings.neo4j)
    await handle.write("MATCH (n) DETACH DELETE n")
    yield handle
    await driver.close()


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[JobQueue]:
    """The test Redis, flushed before the test."""
    job_queue = await JobQueue.connect(settings.redis)
    await job_queue.redis.flushdb()
    yield job_queue
    await job_queue.close()


async def _started(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def graph_app(settings: Settings, graph: Graph) -> AsyncIterator[FastAPI]:
    async for app in _started(create_graph_app(settings)):
        yield app


@pytest.fixture
async def graph_client(settings: Settings, graph_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The in-process graph service, called with the service token as the API calls it."""
    transport = httpx.ASGITransport(app=graph_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://graph", headers=settings.graph.auth_headers()
    ) as client:
        yield client


@pytest.fixture
async def api_app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    async for app in _started(create_api_app(settings)):
        yield app


@pytest.fixture
async def client(api_app: FastAPI, db_session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process, every request inside the test's rolled-back transaction."""

    async def session_override() -> AsyncIterator[AsyncSession]:
        try:
            yield db_session
            await db_session.commit()
        except BaseException:
            await db_session.rollback()
            raise

    async def mark_email_verified(member_id: uuid.UUID) -> None:
        await db_session.execute(_verified(member_id))
        await db_session.commit()

    api_app.dependency_overrides[get_session] = session_override
    transport = httpx.ASGITransport(app=api_app)
    async with ApiClient(transport=transport, base_url="http://api") as http:
        http.mark_email_verified = mark_email_verified
        yield http
    api_app.dependency_overrides.clear()


def _verified(member_id: uuid.UUID) -> Any:
    return update(Member).where(Member.id == member_id).values(email_verified_at=func.now())


@pytest.fixture
async def committed_client(
    api_app: FastAPI, committed_db: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process with its own, really committing, transactions."""

    async def mark_email_verified(member_id: uuid.UUID) -> None:
        async with committed_db() as session:
            await session.execute(_verified(member_id))
            await session.commit()

    transport = httpx.ASGITransport(app=api_app)
    async with ApiClient(transport=transport, base_url="http://api") as http:
        http.mark_email_verified = mark_email_verified
        yield http


async def eventually(
    check: Callable[[], Awaitable[Any]], within: float = 10.0, interval: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy, or fail at the deadline."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within} s (last: {result!r})")
        await asyncio.sleep(interval)


async def emailed_decline_notes(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    """The ids of the decline notes whose email is recorded as sent."""
    async with sessions() as session:
        rows = await session.execute(
            select(Notification.id).where(
                Notification.kind == "invitation_declined", Notification.emailed_at.is_not(None)
            )
        )
        return {str(row) for row in rows.scalars()}


@pytest.fixture
def clock(api_app: FastAPI) -> SteppingClock:
    """The API's clock: starts now, moves only when the test moves it."""
    stepping = SteppingClock()
    api_app.state.clock = stepping
    return stepping


@pytest.fixture
async def api_graph(
    api_app: FastAPI, graph_client: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """Point the API at the in-process graph service (real Neo4j behind it)."""
    original = api_app.state.graph_client
    api_app.state.graph_client = graph_client
    yield graph_client
    api_app.state.graph_client = original


async def project_outbox(session: AsyncSession, graph_client: httpx.AsyncClient) -> int:
    """Hand every outbox event of the test's transaction to the graph service, in order,
    as the notifier's job would (the relay itself is covered in test_outbox_flow)."""
    rows = await session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence))
    applied = 0
    for event in rows.scalars():
        response = await graph_client.post(
            "/internal/v1/events", json=event.envelope().model_dump(mode="json")
        )
        assert response.status_code == 200, response.text
        applied += response.json()["applied"]
    return applied


RunWorker = Callable[..., Awaitable[None]]


@pytest.fixture
def run_worker(
    settings: Settings,
    committed_db: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    graph_client: httpx.AsyncClient,
) -> RunWorker:
    """Relay the outbox, then run the real worker in burst mode until the queue is empty
    (the graph service in-process, over ASGI), on the given clock; optionally with other
    settings, another way to the graph service (one that is down), or other options for
    the arq worker itself."""

    async def run(
        clock: Clock = system_clock,
        *,
        worker_settings: Settings = settings,
        graph: httpx.AsyncClient = graph_client,
        **worker_options: Any,
    ) -> None:
        await relay_pending(committed_db, queue, batch_size=500)
        worker = build_worker(
            worker_settings,
            ctx={
                "sessionmaker": committed_db,
                "graph_client": graph,
                "run_relay": False,
                "serve_health": False,
                "clock": clock,
            },
            burst=True,
            handle_signals=False,
            poll_delay=0.05,
            **worker_options,
        )
        await worker.main()
        await worker.close()

    return run
