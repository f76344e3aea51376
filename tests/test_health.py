"""Liveness, readiness and the docs, for each HTTP service."""

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rapport_common.db import create_sessionmaker
from rapport_common.settings import Settings
from services.api.main import create_app as create_api_app
from services.graph.main import create_app as create_graph_app
from services.notifier.health import create_health_app
from services.notifier.queue import JobQueue


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


class TcpRelay:
    """A loopback TCP forwarder we can cut and restore, standing between a service and
    its real dependency to show what happens when the dependency goes away."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.port = 0
        self.pipes: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for pipe in self.pipes:
            pipe.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)
        self.pipes.clear()
        await self.server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            finally:
                sink.close()
                with contextlib.suppress(Exception):
                    await sink.wait_closed()

        for task in (pipe(reader, upstream_writer), pipe(upstream_reader, writer)):
            self.pipes.add(asyncio.create_task(task))


async def test_livez_answers_ok_on_every_service(settings: Settings) -> None:
    for app in (create_api_app(settings), create_graph_app(settings)):
        async with running(app) as client:
            response = await client.get("/livez")
            assert response.status_code == 200
            assert response.json() == {"status": "ok"}


async def test_graph_readyz_is_ready_with_neo4j_up(settings: Settings) -> None:
    async with running(create_graph_app(settings)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["neo4j"]["status"] == "up"


async def test_readyz_names_the_dependency_that_is_down(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={"postgres": settings.postgres.model_copy(update={"port": 1})}
    )
    async with running(create_api_app(unreachable)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["checks"]["postgres"]["status"] == "down"
    assert "postgres at 127.0.0.1:1 is down" in body["detail"]


async def test_graph_readyz_names_neo4j_when_it_is_down(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={"neo4j": settings.neo4j.model_copy(update={"uri": "bolt://127.0.0.1:1"})}
    )
    async with running(create_graph_app(unreachable)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert "neo4j at bolt://127.0.0.1:1 is down" in response.json()["detail"]


async def test_readyz_turns_503_when_postgres_goes_away_and_recovers_by_itself(
    settings: Settings,
) -> None:
    relay = TcpRelay(settings.postgres.port)
    await relay.open()
    through_relay = settings.model_copy(
        update={"postgres": settings.postgres.model_copy(update={"port": relay.port})}
    )
    try:
        async with running(create_api_app(through_relay)) as client:
            assert (await client.get("/readyz")).json()["checks"]["postgres"]["status"] == "up"

            await relay.cut()
            down = await client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["checks"]["postgres"]["status"] == "down"

            await relay.open()
            back = await client.get("/readyz")
            assert back.json()["checks"]["postgres"]["status"] == "up"
    finally:
        await relay.cut()


async def test_docs_load_every_asset_from_the_service_itself(settings: Settings) -> None:
    async with running(create_api_app(settings)) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        assets = re.findall(r'(?:href|src)="([^"]+)"', page.text)
        assert assets, "the docs page references no assets"
        for asset in assets:
            assert asset.startswith("/"), f"{asset} is not served by the API"
            assert (await client.get(asset)).status_code == 200
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "Rapport API"


async def test_request_id_is_echoed_or_made(settings: Settings) -> None:
    async with running(create_api_app(settings)) as client:
        echoed = await client.get("/livez", headers={"X-Request-ID": "trace-123"})
        made = await client.get("/livez")
    assert echoed.headers["x-request-id"] == "trace-123"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])


async def test_unsafe_request_id_is_replaced(settings: Settings) -> None:
    async with running(create_api_app(settings)) as client:
        response = await client.get("/livez", headers={"X-Request-ID": "bad id\twith tabs"})
    assert response.headers["x-request-id"] != "bad id\twith tabs"


async def test_notifier_readyz_checks_postgres_redis_and_smtp(
    settings: Settings, engine: AsyncEngine, queue: JobQueue
) -> None:
    ctx = {"settings": settings, "sessionmaker": create_sessionmaker(engine), "redis": queue.redis}
    transport = httpx.ASGITransport(app=create_health_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"postgres", "redis", "smtp"}


async def test_notifier_readyz_names_smtp_when_it_is_down(
    settings: Settings, engine: AsyncEngine, queue: JobQueue
) -> None:
    broken = settings.model_copy(update={"smtp": settings.smtp.model_copy(update={"port": 1})})
    ctx = {"settings": broken, "sessionmaker": create_sessionmaker(engine), "redis": queue.redis}
    transport = httpx.ASGITransport(app=create_health_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert "smtp at 127.0.0.1:1 is down" in response.json()["detail"]


async def test_api_answers_503_while_postgres_is_away_and_recovers_by_itself(
    settings: Settings, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    # committed_db: the members registered here are really committed, and emptied after.
    relay = TcpRelay(settings.postgres.port)
    await relay.open()
    through_relay = settings.model_copy(
        update={"postgres": settings.postgres.model_copy(update={"port": relay.port})}
    )

    async def register(name: str) -> httpx.Response:
        body = {"email": f"{name}@example.com", "password": "correct horse battery", "name": name}
        return await client.post("/v1/auth/register", json=body)

    try:
        async with running(create_api_app(through_relay)) as client:
            assert (await register(f"before-{relay.port}")).status_code == 201

            await relay.cut()  # the pooled connections die with it
            away = await register(f"away-{relay.port}")
            assert away.status_code == 503
            assert away.headers["content-type"] == "application/problem+json"
            assert away.json()["type"].endswith("/database-unavailable")
            assert away.headers["retry-after"] == "1"

            await relay.open()
            # A pooled connection broken by the cut may fail one request, with a 503 and
            # nothing saved; the pool then replaces it.
            retried = [await register(f"back-{relay.port}") for _ in range(2)]
            assert [r.status_code for r in retried] in ([201, 409], [503, 201])
    finally:
        await relay.cut()
