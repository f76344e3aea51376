"""The graph service: ``uvicorn services.graph.main:build --factory``."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import ModuleType
from typing import LiteralString

from fastapi import Depends, FastAPI, Request
from fastapi_offline import FastAPIOffline

from rapport_common.clock import Clock, system_clock
from rapport_common.logging import configure_logging
from rapport_common.settings import Settings, get_settings
from rapport_common.web.health import Check, health_router
from rapport_common.web.middleware import RequestIdMiddleware
from rapport_common.web.problems import install_problem_handlers, problem_responses
from rapport_common.web.startup import report_unreachable
from services.graph import queries
from services.graph.connections import queries as connection_queries
from services.graph.connections.router import router as connections_router
from services.graph.database import Graph, create_driver
from services.graph.deps import require_service_token
from services.graph.importers.network import fill_degrees
from services.graph.paths import queries as path_queries
from services.graph.paths.router import lean_routes
from services.graph.paths.router import router as paths_router
from services.graph.projection.router import router as projection_router

logger = logging.getLogger("rapport.graph")
STARTUP_WARM_UP_WAIT_SECONDS = 10.0
FILL_PATIENCE_SECONDS = 60.0


def _named_queries(*modules: ModuleType) -> tuple[LiteralString, ...]:
    """Every query constant of these modules, for the warm-up to plan."""
    return tuple(
        value
        for module in modules
        for name, value in vars(module).items()
        if name.isupper() and not name.startswith("_") and isinstance(value, str)
    )


WARM_UP_QUERIES = _named_queries(queries, path_queries, connection_queries)


class Warming(Exception):
    """Neo4j answers, but the service has not finished warming it up yet."""


def _start_warm_up(app: FastAPI) -> None:
    """One warm-up at a time, in the background: a readiness probe is short (2 s) and
    must not cancel a warm-up that takes longer on a cold store."""
    graph: Graph = app.state.graph
    running: asyncio.Task[None] | None = app.state.warm_up
    if graph.warm or (running is not None and not running.done()):
        return

    async def warm_up() -> None:
        try:
            await graph.ensure_schema(queries.SCHEMA)
            await graph.warm_up(WARM_UP_QUERIES)
        except Exception as exc:  # readiness stays 503 and starts the next attempt
            logger.warning("neo4j warm-up failed: %s: %s", type(exc).__name__, str(exc)[:200])
            return
        filling: asyncio.Task[None] | None = app.state.fill_degrees
        if filling is None or filling.done():
            app.state.fill_degrees = asyncio.create_task(_fill_degrees(graph), name="degrees")

    app.state.warm_up = asyncio.create_task(warm_up(), name="neo4j-warm-up")


async def _fill_degrees(graph: Graph) -> None:
    """The schema step for members' ``degree`` (services/graph/queries.py): members
    without one (a graph from before it was kept, an import, an offline import) get it,
    in the background each time Neo4j has been warmed up (a search counts the
    relationships of a member without one meanwhile). A failure is logged and left to
    the next warm-up."""
    try:
        filled = await fill_degrees(graph.with_patience(FILL_PATIENCE_SECONDS))
    except Exception as exc:
        logger.warning("degrees not filled: %s: %s", type(exc).__name__, str(exc)[:200])
    else:
        if filled:
            logger.info("degrees filled in for %d members", filled)


def _readiness_checks(request: Request) -> Mapping[str, tuple[str, Check]]:
    settings: Settings = request.app.state.settings
    graph: Graph = request.app.state.graph

    async def neo4j() -> None:
        await graph.driver.verify_connectivity()
        if not graph.warm:
            _start_warm_up(request.app)
            raise Warming("answers; warming up (schema, indexes, query plans)")

    return {"neo4j": (settings.neo4j.uri, neo4j)}


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = create_driver(settings.neo4j)
        graph = Graph(driver, settings.neo4j)
        app.state.graph = graph
        app.state.warm_up = None
        app.state.fill_degrees = None
        await report_unreachable("neo4j", settings.neo4j.uri, graph.ensure_schema(queries.SCHEMA))
        _start_warm_up(app)
        # Most starts find Neo4j warm enough to finish in well under a second: ready at
        # once then; a cold store keeps warming up in the background.
        await asyncio.wait({app.state.warm_up}, timeout=STARTUP_WARM_UP_WAIT_SECONDS)
        # What the start made (the app, its routes and models, the driver: about 120,000
        # objects) lives as long as the process; set apart from the cyclic collector,
        # its full collections no longer walk it (0.24 -> 0.05 ms of collection per path
        # search at 1m, bench/README.md "Findings").
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            for task in (app.state.warm_up, app.state.fill_degrees):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await driver.close()

    app = FastAPIOffline(title="Rapport graph service", version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.clock = clock
    app.add_middleware(RequestIdMiddleware, service="graph")
    install_problem_handlers(app)
    app.include_router(health_router(_readiness_checks))
    for internal in (projection_router, connections_router, paths_router):
        app.include_router(
            internal,
            dependencies=[Depends(require_service_token)],
            responses=problem_responses(
                (401, "The service token is missing or wrong"),
                (503, "Neo4j is down, restarting or overloaded; retry after Retry-After"),
            ),
        )
    # The hot internal read answers ahead of FastAPI's routes, which still document it.
    app.router.routes[0:0] = lean_routes
    return app


def build() -> FastAPI:
    settings = get_settings()
    configure_logging("graph", settings.log_level)
    return create_app(settings)
