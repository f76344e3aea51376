"""The notifier worker: ``python -m services.notifier``.

It runs the outbox relay beside the arq worker, so one process hands events on
and handles them.
"""

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from arq import cron
from arq.worker import Worker
from sqlalchemy import text

from rapport_common.db import create_engine, create_sessionmaker
from rapport_common.logging import configure_logging
from rapport_common.settings import Settings, get_settings
from rapport_common.web.startup import report_unreachable
from services.notifier import jobs
from services.notifier.consumers import CRON_JOBS, JOBS
from services.notifier.health import serve_health, stop_health
from services.notifier.notifications.mailer import Mailer
from services.notifier.queue import JobQueue, arq_redis_settings, deserialize, serialize
from services.notifier.relay import OutboxRelay

logger = logging.getLogger("rapport.notifier")


async def startup(ctx: dict[str, Any]) -> None:
    """Create the clients the jobs use; a test may have put its own in ``ctx`` already."""
    settings: Settings = ctx["settings"]
    if "sessionmaker" not in ctx:
        # No ping per checkout: a job that meets a dropped connection is retried
        # (jobs.handle_event), and the pool then replaces its older connections.
        engine = create_engine(settings.postgres, pre_ping=False)
        ctx["engine"] = engine
        ctx["sessionmaker"] = create_sessionmaker(engine)
    ctx.setdefault(
        "graph_client",
        httpx.AsyncClient(base_url=settings.graph.url, timeout=settings.graph.timeout_seconds),
    )
    ctx["mailer"] = Mailer(settings.smtp, size=settings.worker.max_jobs)
    relay = OutboxRelay(
        ctx["sessionmaker"], JobQueue(ctx["redis"]), settings.postgres, settings.outbox
    )
    ctx["relay"] = relay
    if ctx.get("run_relay", True):
        ctx["relay_task"] = asyncio.create_task(relay.run(), name="outbox-relay")
    if ctx.get("serve_health", True):
        ctx["health_task"] = await serve_health(ctx)
    await report_unreachable("postgres", settings.postgres.address, _ping(ctx))
    logger.info("notifier ready", extra={"redis": settings.redis.address})


async def _ping(ctx: dict[str, Any]) -> None:
    async with ctx["sessionmaker"]() as session:
        await session.execute(text("SELECT 1"))


async def shutdown(ctx: dict[str, Any]) -> None:
    await stop_health(ctx.get("health_task"))
    task: asyncio.Task[None] | None = ctx.get("relay_task")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    mailer: Mailer | None = ctx.get("mailer")
    if mailer is not None:
        await mailer.close()
    if "engine" in ctx:
        await ctx["graph_client"].aclose()
        await ctx["engine"].dispose()


def build_worker(settings: Settings, ctx: dict[str, Any] | None = None, **overrides: Any) -> Worker:
    options: dict[str, Any] = {
        "functions": [jobs.handle_event, *JOBS],
        "cron_jobs": [cron(jobs.reconcile_outbox, second=0), *CRON_JOBS],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": arq_redis_settings(settings.redis),
        "job_serializer": serialize,
        "job_deserializer": deserialize,
        "max_tries": settings.worker.max_tries,
        "job_timeout": settings.worker.job_timeout_seconds,
        "poll_delay": settings.worker.poll_delay_seconds,
        "max_jobs": settings.worker.max_jobs,
        "keep_result": 3600,
        "health_check_interval": 30,
        "ctx": {"settings": settings, **(ctx or {})},
    }
    options.update(overrides)
    return Worker(**options)


def main() -> None:
    settings = get_settings()
    configure_logging("notifier", settings.log_level)
    build_worker(settings).run()
