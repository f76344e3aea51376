"""The graph service: ``uvicorn services.graph.main:build --factory``."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

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
from services.graph.connections.router import router as connections_router
from services.graph.database import Graph, create_driver
from services.graph.deps import require_service_token
from services.graph.paths.router import router as paths_router
from services.graph.projection.router import router as projection_router


def _readiness_checks(request: Request) -> Mapping[str, tuple[str, Check]]:
    settings: Settings = request.app.state.settings
    graph: Graph = request.app.state.graph

    async def neo4j() -> None:
        await graph.driver.verify_connectivity()
        await graph.ensure_schema(queries.SCHEMA)

    return {"neo4j": (settings.neo4j.uri, neo4j)}


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = create_driver(settings.neo4j)
        graph = Graph(driver, settings.neo4j)
        app.state.graph = graph
        await report_unreachable("neo4j", settings.neo4j.uri, graph.ensure_schema(queries.SCHEMA))
        try:
            yield
        finally:
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
            responses=problem_responses((401, "The service token is missing or wrong")),
        )
    return app


def build() -> FastAPI:
    settings = get_settings()
    configure_logging("graph", settings.log_level)
    return create_app(settings)
