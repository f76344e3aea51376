"""The public API application: ``uvicorn services.api.main:app``."""

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport_common.db import create_engine, create_sessionmaker
from rapport_common.logging import configure_logging
from rapport_common.metrics import instrument_pool
from rapport_common.settings import Settings, get_settings
from rapport_common.web.body_limit import describe_limit, install_body_limit
from rapport_common.web.health import Check, health_router
from rapport_common.web.middleware import RequestIdMiddleware
from rapport_common.web.problems import install_problem_handlers, problem_responses
from rapport_common.web.startup import report_unreachable
from services.api.accounts.forms import router as account_pages_router
from services.api.accounts.router import router as accounts_router
from services.api.auth.router import router as auth_router
from services.api.auth.tokens import VerifiedTokens
from services.api.blocks.router import router as blocks_router
from services.api.cards.router import router as cards_router
from services.api.connections.router import router as connections_router
from services.api.email_invitations.router import router as email_invitations_router
from services.api.erasure.router import router as erasure_router
from services.api.exports.router import router as exports_router
from services.api.introductions.router import router as introductions_router
from services.api.invitations.lean import lean_routes as invitation_lean_routes
from services.api.invitations.router import router as invitations_router
from services.api.members.router import router as members_router
from services.api.network.router import router as network_router
from services.api.notifications.router import links_router as email_preferences_router
from services.api.notifications.router import router as notifications_router
from services.api.openapi import document_contract, operation_id
from services.api.policies.router import router as policies_router
from services.api.recommendations.router import router as recommendations_router
from services.api.webhooks.openapi import document_webhooks
from services.api.webhooks.router import router as webhooks_router

logger = logging.getLogger(__name__)

API_DESCRIPTION = """
Every error is RFC 9457 `application/problem+json` (`ProblemDetails`) with a stable `type`
per kind of error and a `detail` to show a person; a 422 `validation-error` lists each
refused field in `errors`. A body that is not UTF-8 JSON is a 422 like any invalid one;
a request that needs a sign-in is answered 401 before its body is read. Values are
taken as typed: `0`, `1` or `"yes"` is not a boolean, `"5"` not an integer.
Creating POSTs accept `Idempotency-Key`.
Every list pages the same way: `limit` (20 unless asked, at most 100), and `cursor` set
to the previous page's `next_cursor` (null on the last page); a cursor the API did not
issue is a 400 `invalid-cursor`.
Every response carries `X-Request-ID` (yours, if you sent one); the other headers a
client reads (`ETag`, `Retry-After`, `RateLimit`, `RateLimit-Policy`, `WWW-Authenticate`,
`Location`) are declared on the responses that carry them. A 405 lists in `Allow` every
method of the path. Operation ids are stable and short (`acceptInvitation`), and links
chain the main flows (register → sign in, send → read → accept or decline, ask for an
introduction → forward → accept, create a webhook endpoint → its deliveries).
Request bodies over {body_limit} are refused with 413. One-line text fields (names,
headlines, emails, rule names) refuse control characters and line breaks; notes,
questions, answers and templates keep tab, LF and CR; NUL is refused everywhere.
"""


def _readiness_checks(request: Request) -> Mapping[str, tuple[str, Check]]:
    state = request.app.state
    settings: Settings = state.settings

    async def postgres() -> None:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def graph() -> None:
        response = await state.graph_client.get("/livez")
        response.raise_for_status()

    return {
        "postgres": (settings.postgres.address, postgres),
        "graph": (settings.graph.url, graph),
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    body_limit = settings.api.max_body_bytes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.postgres, pre_ping=False)
        instrument_pool(engine, "api")
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.graph_client = httpx.AsyncClient(
            base_url=settings.graph.url, timeout=settings.graph.timeout_seconds
        )
        await report_unreachable("postgres", settings.postgres.address, _ping_postgres(engine))
        try:
            yield
        finally:
            await app.state.graph_client.aclose()
            await engine.dispose()

    app = FastAPIOffline(
        title="Rapport API",
        version="1.0.0",
        summary="A professional network where every connection means something.",
        description=API_DESCRIPTION.replace("{body_limit}", describe_limit(body_limit)),
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        responses=problem_responses(
            (422, "The request is not valid; `errors` lists each field"),
            (500, "An unexpected error on our side"),
            (
                503,
                "The database (or, where said, the graph service) is unavailable, or "
                "(`concurrent-change`) another change to the same records made the "
                "database roll this one back; retry after `Retry-After` seconds. Nothing "
                "was saved, unless the connection failed at the very moment the change "
                "was committed: a retry then finds it made (one with the same "
                "`Idempotency-Key` answers as the first time).",
            ),
        ),
    )
    app.state.settings = settings
    app.state.verified_tokens = VerifiedTokens()
    # Inside CORS and request ids, so a 413 carries both.
    install_body_limit(app, body_limit)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.api.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "ETag", "Retry-After", "RateLimit", "RateLimit-Policy"],
    )
    app.add_middleware(RequestIdMiddleware, service="api")
    install_problem_handlers(app)
    app.include_router(health_router(_readiness_checks))
    app.include_router(auth_router)
    app.include_router(accounts_router)
    app.include_router(account_pages_router)
    app.include_router(members_router)
    app.include_router(erasure_router)
    app.include_router(policies_router)
    app.include_router(invitations_router)
    app.include_router(cards_router)
    app.include_router(email_invitations_router)
    app.include_router(connections_router)
    app.include_router(blocks_router)
    app.include_router(recommendations_router)
    app.include_router(network_router)
    app.include_router(introductions_router)
    app.include_router(notifications_router)
    app.include_router(email_preferences_router)
    app.include_router(webhooks_router)
    app.include_router(exports_router)
    document_webhooks(app)
    document_contract(app)
    # Ahead of FastAPI's routes: the invitation mix's usual calls, answered without
    # FastAPI's routing, dependencies and session (the rest goes on to those routes).
    app.router.routes[0:0] = invitation_lean_routes
    return app


async def _ping_postgres(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def build() -> FastAPI:
    settings = get_settings()
    configure_logging("api", settings.log_level)
    return create_app(settings)
