"""A worker killed with SIGKILL in the middle of its jobs loses nothing, and sends no
second copy of an email it had recorded as sent.

Everything here is a real process: the notifier worker and the graph service run as
subprocesses, mail goes over SMTP to a slow (but real) SMTP server in this test, so the
kill lands while emails are going out.
"""

import os
import signal
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.notifications import Notification
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from tests.conftest import emailed_decline_notes, eventually
from tests.factories import declined_by_many
from tests.processes import CountingSmtp, free_port, running, smtp_server

DECLINES = 30


@pytest.fixture
async def slow_smtp() -> AsyncIterator[tuple[CountingSmtp, int]]:
    """Accepts each message after a short pause, so the kill lands while emails go out."""
    handler = CountingSmtp(delay=0.15)
    async with smtp_server(handler) as port:
        yield handler, port


async def test_a_killed_worker_loses_nothing_and_resends_nothing_recorded_as_sent(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    slow_smtp: tuple[CountingSmtp, int],
) -> None:
    smtp, smtp_port = slow_smtp
    graph_port = free_port()
    env = {
        **os.environ,
        "RAPPORT_POSTGRES__DATABASE": settings.postgres.database,
        "RAPPORT_SMTP__PORT": str(smtp_port),
        "RAPPORT_GRAPH__URL": f"http://127.0.0.1:{graph_port}",
        "RAPPORT_WORKER__MAX_JOBS": "2",
        "RAPPORT_WORKER__JOB_TIMEOUT_SECONDS": "2",
        "RAPPORT_LOG_LEVEL": "WARNING",
    }
    await declined_by_many(committed_client, DECLINES)

    async def sent_declines() -> set[str]:
        return await emailed_decline_notes(committed_db)

    graph = [
        sys.executable,
        "-m",
        "uvicorn",
        "services.graph.main:build",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(graph_port),
    ]
    worker = [sys.executable, "-m", "services.notifier"]
    with running(graph, env):
        with running(worker, env) as first:
            await eventually(lambda: _at_least(sent_declines, 5), within=60)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        recorded_before_kill = await sent_declines()
        assert len(recorded_before_kill) < DECLINES, "the kill came too late to test anything"
        with running(worker, env):
            await eventually(lambda: _at_least(sent_declines, DECLINES), within=90)
            await eventually(lambda: _all_events_completed(committed_db), within=60)

    async with committed_db() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "invitation_declined")
        )
    assert stored == DECLINES
    for notification_id in recorded_before_kill:
        assert smtp.received.count(notification_id) == 1
    assert set(smtp.received) >= await sent_declines()


async def _at_least(check: object, count: int) -> bool:
    found = await check()  # type: ignore[operator]
    return len(found) >= count


async def _all_events_completed(db: async_sessionmaker[AsyncSession]) -> bool:
    async with db() as session:
        pending = await session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.completed_at.is_(None))
        )
    return pending == 0
