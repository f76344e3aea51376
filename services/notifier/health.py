"""The worker's own /livez and /readyz, served from inside the worker process so that
"ready" means this process reaches its stores; /outbox, how many events are
dead-lettered or still on their way; and /metrics, with the outbox's backlog."""

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import aiosmtplib
import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy import text

from rapport_common.metrics import OUTBOX_DEAD, OUTBOX_OLDEST_AGE, OUTBOX_PENDING
from rapport_common.settings import Settings
from rapport_common.web.health import Check, health_router
from rapport_common.web.problems import install_problem_handlers
from services.notifier.clock import now_of
from services.notifier.dead_letters import outbox_health


class QueueOutage(Exception):
    """The worker's last poll of the queue failed; it is waiting for Redis."""


class _WorkerOwnsSignals(uvicorn.Server):
    """The worker handles SIGTERM and SIGINT; the health server must not take them over."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def create_health_app(ctx: dict[str, Any]) -> FastAPI:
    settings: Settings = ctx["settings"]

    def checks(_: Request) -> Mapping[str, tuple[str, Check]]:
        async def postgres() -> None:
            async with ctx["sessionmaker"]() as session:
                await session.execute(text("SELECT 1"))

        async def redis() -> None:
            await ctx["redis"].ping()
            # Redis may answer a ping before the worker's next poll goes through.
            outage = ctx.get("queue_outage")
            if outage is not None:
                raise QueueOutage(f"the worker cannot poll the queue yet ({outage})")

        async def smtp() -> None:
            client = aiosmtplib.SMTP(
                hostname=settings.smtp.host, port=settings.smtp.port, timeout=2
            )
            await client.connect()
            await client.quit()

        return {
            "postgres": (settings.postgres.address, postgres),
            "redis": (settings.redis.address, redis),
            "smtp": (f"{settings.smtp.host}:{settings.smtp.port}", smtp),
        }

    async def outbox_gauges() -> None:
        async with ctx["sessionmaker"]() as session:
            health = await outbox_health(session)
        OUTBOX_PENDING.set(health["unfinished_events"])
        OUTBOX_DEAD.set(health["dead_events"])
        oldest = health["oldest_unfinished_at"]
        age = (now_of(ctx) - datetime.fromisoformat(oldest)).total_seconds() if oldest else 0
        OUTBOX_OLDEST_AGE.set(max(age, 0.0))

    app = FastAPI(title="Rapport notifier", docs_url=None, redoc_url=None, openapi_url=None)
    install_problem_handlers(app)
    app.include_router(health_router(checks, before_scrape=outbox_gauges))

    @app.get("/outbox", tags=["health"], summary="Dead-lettered and unfinished outbox events")
    async def outbox() -> dict[str, Any]:
        # Dead events do not make the worker unready: it keeps handling the others.
        async with ctx["sessionmaker"]() as session:
            return await outbox_health(session)

    return app


async def serve_health(ctx: dict[str, Any]) -> asyncio.Task[None]:
    settings: Settings = ctx["settings"]
    config = uvicorn.Config(
        create_health_app(ctx),
        host=settings.notifier.bind,
        port=settings.notifier.port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    return asyncio.create_task(_WorkerOwnsSignals(config).serve(), name="notifier-health")


async def stop_health(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
