"""The notifier worker: ``python -m services.notifier``.

It runs the outbox relay beside the arq worker, so one process hands events on
and handles them.
"""

import asyncio
import contextlib
import dataclasses
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from arq import cron
from arq.worker import Worker
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import text

from rapport_common.db import create_engine, create_sessionmaker
from rapport_common.logging import configure_logging
from rapport_common.metrics import timed_job
from rapport_common.settings import Settings, get_settings
from rapport_common.web.startup import report_unreachable
from services.notifier import jobs
from services.notifier.consumers import CRON_JOBS, JOBS
from services.notifier.health import serve_health, stop_health
from services.notifier.notifications.mailer import Mailer
from services.notifier.queue import JobQueue, arq_redis_settings, deserialize, serialize
from services.notifier.relay import OutboxRelay

logger = logging.getLogger("rapport.notifier")

# What redis-py raises while Redis is down, restarting or still loading its data.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
# The longest pause between two tries while Redis is away: the worker is back within
# this long of Redis answering (the target is 30 s).
MAX_BACKOFF_SECONDS = 5.0


class OutageTolerantWorker(Worker):
    """arq's worker, except that losing Redis is an outage to wait out, not the end.

    arq lets a Redis error in its poll loop end ``main``, and with it the process. Here
    a failed poll is logged, the worker waits (backing off to ``MAX_BACKOFF_SECONDS``)
    and polls again; the redis-py pool reconnects by itself once Redis answers. Nothing
    is lost meanwhile: a job stays in Redis's queue until arq finishes it, a job whose
    end could not be recorded runs again (every job is idempotent), and events that
    never reached Redis stay in the outbox for the relay. ``ctx["queue_outage"]`` holds
    the error while the poll fails, for ``/readyz``."""

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_DOWN as exc:
            await self._wait_out(exc)
        else:
            if self.ctx.pop("queue_outage", None) is not None:
                logger.warning(
                    "redis answers again; the worker resumed after %.1f s",
                    time.monotonic() - self.ctx.pop("queue_outage_since"),
                )
            self.ctx.pop("queue_outage_pause", None)

    async def _wait_out(self, exc: BaseException) -> None:
        pause: float = self.ctx.get("queue_outage_pause", 0.25)
        if "queue_outage" not in self.ctx:
            self.ctx["queue_outage_since"] = time.monotonic()
            logger.error(
                "redis at %s is unreachable (%s: %s); the worker waits for it and "
                "/readyz answers 503 meanwhile",
                self.ctx["settings"].redis.address,
                type(exc).__name__,
                exc,
            )
        self.ctx["queue_outage"] = f"{type(exc).__name__}: {exc}"[:300]
        self.ctx["queue_outage_pause"] = min(pause * 2, MAX_BACKOFF_SECONDS)
        await asyncio.sleep(pause)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        try:
            await super().start_jobs(job_ids)
        except REDIS_DOWN:
            # arq took a slot (counter and semaphore) for the job it was claiming when
            # Redis went away, and gives it back only when the job's task ends: there is
            # no task, so the slot is given back here.
            self.job_counter -= 1
            self.sem.release()
            raise

    async def close(self) -> None:
        try:
            await super().close()
        except REDIS_DOWN as exc:
            # arq clears its health key before the shutdown hook; without Redis that
            # fails, and the clients must still be closed.
            logger.warning("redis unreachable while stopping (%s); closing the rest", exc)
            if self.on_shutdown is not None:
                await self.on_shutdown(self.ctx)
            self._pool = None


async def startup(ctx: dict[str, Any]) -> None:
    """Create the clients the jobs use; a test may have put its own in ``ctx`` already."""
    settings: Settings = ctx["settings"]
    if "sessionmaker" not in ctx:
        # No ping per checkout: a job that meets a dropped connection is retried
        # (jobs.handle_events), and the pool then replaces its older connections.
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
    # What the start made lives as long as the process; set apart from the cyclic
    # collector, its full collections no longer walk it (as the graph service does).
    gc.freeze()
    logger.info("notifier ready", extra={"redis": settings.redis.address})


async def _ping(ctx: dict[str, Any]) -> None:
    async with ctx["sessionmaker"]() as session:
        await session.execute(text("SELECT 1"))


async def shutdown(ctx: dict[str, Any]) -> None:
    gc.unfreeze()
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


def build_worker(
    settings: Settings, ctx: dict[str, Any] | None = None, **overrides: Any
) -> OutageTolerantWorker:
    functions: list[Callable[..., Awaitable[Any]]] = [jobs.handle_events, jobs.handle_event, *JOBS]
    options: dict[str, Any] = {
        "functions": [timed_job(function) for function in functions],
        "cron_jobs": [
            dataclasses.replace(job, coroutine=timed_job(job.coroutine))
            for job in (cron(jobs.reconcile_outbox, second=0), *CRON_JOBS)
        ],
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
    return OutageTolerantWorker(**options)


def main() -> None:
    """Run the worker; if Redis cannot be reached as it starts, try again until it can
    (the outage tolerance of a running worker starts once it has connected)."""
    settings = get_settings()
    configure_logging("notifier", settings.log_level)
    pause = 1.0
    while True:
        worker = build_worker(settings)
        try:
            worker.run()
            return
        except REDIS_DOWN as exc:
            logger.error(
                "redis at %s is unreachable at start (%s); trying again in %.0f s",
                settings.redis.address,
                exc,
                pause,
            )
        # arq's handlers only act while its loop runs: while waiting here, SIGTERM and
        # SIGINT must stop the process as usual.
        for signum in (signal.SIGINT, signal.SIGTERM):
            worker.loop.remove_signal_handler(signum)
        time.sleep(pause)
        pause = min(pause * 2, MAX_BACKOFF_SECONDS)
