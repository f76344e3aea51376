"""Typed dependencies of the graph service: the Neo4j handle, the strength model, the clock."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from rapport_common.clock import Clock
from rapport_common.settings import StrengthSettings
from rapport_common.strength import as_utc
from services.graph.database import Graph


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
        datetime | None,
        Query(description="The moment strengths are computed for (ISO 8601); default now, UTC."),
    ] = None,
) -> datetime:
    return clock() if at is None else as_utc(at)


GraphDep = Annotated[Graph, Depends(get_graph)]
StrengthDep = Annotated[StrengthSettings, Depends(get_strength_settings)]
AtDep = Annotated[datetime, Depends(get_at)]
