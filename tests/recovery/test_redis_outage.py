"""Redis killed (SIGKILL) under a running notifier: the worker does not exit, its
/readyz answers 503 while Redis is away, and once Redis is back it resumes by itself and
sends every email still owed, none twice."""

import sys
import time
from collections.abc import Awaitable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.notifications import Notification
from rapport_common.settings import Settings
from tests.conftest import emailed_decline_notes, eventually
from tests.factories import declined_by_many
from tests.processes import CountingSmtp, free_port, running
from tests.recovery.conftest import READY_WITHIN_SECONDS, http_status, stack

pytestmark = pytest.mark.faults

DECLINES = 30


async def test_redis_killed_under_the_worker_it_waits_resumes_and_sends_everything_once(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    counting_smtp: tuple[CountingSmtp, int],
    tmp_path: Path,
) -> None:
    smtp, smtp_port = counting_smtp
    graph_port, health_port = free_port(), free_port()
    env = {
        "RAPPORT_POSTGRES__DATABASE": settings.postgres.database,
        "RAPPORT_SMTP__PORT": str(smtp_port),
        "RAPPORT_GRAPH__URL": f"http://127.0.0.1:{graph_port}",
        "RAPPORT_GRAPH__PORT": str(graph_port),
        "RAPPORT_NOTIFIER__PORT": str(health_port),
        "RAPPORT_WORKER__MAX_JOBS": "2",
    }
    readyz = f"http://127.0.0.1:{health_port}/readyz"
    await declined_by_many(committed_client, DECLINES)

    async def emailed() -> set[str]:
        return await emailed_decline_notes(committed_db)

    async def emailed_at_least(count: int) -> bool:
        return len(await emailed()) >= count

    graph = [sys.executable, "-m", "uvicorn", "services.graph.main:build", "--factory"]
    graph += ["--host", "127.0.0.1", "--port", str(graph_port)]
    worker = [sys.executable, "-m", "services.notifier"]
    log = tmp_path / "notifier.log"
    with running(graph, env, tmp_path / "graph.log"), running(worker, env, log) as notifier:
        await eventually(lambda: emailed_at_least(3), within=60)
        await stack("kill", "redis")
        try:
            await eventually(lambda: _is(http_status(readyz), 503), within=10)
            before_restart = len(await emailed())
            assert notifier.poll() is None, "the worker exited when Redis went away"
        finally:
            await stack("start", "redis")
        answering_since = time.monotonic()
        await eventually(lambda: _is(http_status(readyz), 200), within=READY_WITHIN_SECONDS)
        ready_after = time.monotonic() - answering_since
        await eventually(lambda: emailed_at_least(DECLINES), within=120)
        assert notifier.poll() is None

    async with committed_db() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "invitation_declined")
        )
    assert stored == DECLINES
    assert before_restart < DECLINES, "Redis went away too late to test anything"
    assert sorted(smtp.received) == sorted(set(smtp.received)), "an email went out twice"
    assert set(smtp.received) >= await emailed()
    # The worker's own log line about the outage is not required: under load every job
    # slot may be busy for the whole outage, so the poll loop never meets the dead Redis;
    # staying alive, ready again and sending everything once is what counts.
    print(f"worker ready {ready_after:.1f} s after redis answered; {before_restart} sent before")


async def _is(status: Awaitable[int | None], expected: int) -> bool:
    return await status == expected
