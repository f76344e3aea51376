"""Typed dependencies of the graph service: the service token, the Neo4j handle, the
strength model, the clock."""

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from rapport_common.clock import Clock
from rapport_common.settings import StrengthSettings
from rapport_common.strength import as_utc
from rapport_common.web.inputs import Instant
from rapport_common.web.problems import Unauthorized
from services.graph.database import Graph

service_token_scheme = HTTPBearer(
    auto_error=False,
    description="The shared service token (`RAPPORT_GRAPH__SERVICE_TOKEN`) that the API "
    "and the notifier present.",
)


class ServiceTokenInvalid(Unauthorized):
    slug, title = "service-token-invalid", "Service token missing or wrong"


async def require_service_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(service_token_scheme)],
) -> None:
    """Guards every internal route."""
    check_service_token(request, credentials.credentials if credentials else "")


def check_service_token(request: Request, presented: str) -> None:
    """Compared in constant time, so how long a refusal takes does not tell how much of a
    guess was right."""
    expected = request.app.state.settings.graph.service_token.get_secret_value().encode()
    if not (expected and presented and hmac.compare_digest(presented.encode(), expected)):
        raise ServiceTokenInvalid(
            "The graph service answers only the API and the notifier: send "
            "'Authorization: Bearer <RAPPORT_GRAPH__SERVICE_TOKEN>'."
        )


def bearer_token(request: Request) -> str:
    """The credentials of an ``Authorization: Bearer`` header, as ``service_token_scheme``
    reads them; empty if there are none."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    return credentials if scheme.lower() == "bearer" else ""


async def get_graph(request: Request) -> Graph:
    graph: Graph = request.app.state.graph
    return graph


async def get_strength_settings(request: Request) -> StrengthSettings:
    settings: StrengthSettings = request.app.state.settings.strength
    return settings


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_at(
    clock: Annotated[Clock, Depends(get_clock)],
    at: Annotated[
        Instant | None,
        Query(description="The moment strengths are computed for (ISO 8601); default now, UTC."),
    ] = None,
) -> datetime:
    return clock() if at is None else as_utc(at)


GraphDep = Annotated[Graph, Depends(get_graph)]
StrengthDep = Annotated[StrengthSettings, Depends(get_strength_settings)]
AtDep = Annotated[datetime, Depends(get_at)]
