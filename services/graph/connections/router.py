import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.graph.connections import service
from services.graph.connections.schemas import ConnectionOut, ConnectionsOut, HealthOut
from services.graph.deps import AtDep, GraphDep, StrengthDep

router = APIRouter(prefix="/internal/v1/members/{member_id}", tags=["internal: connections"])


@router.get(
    "/connections",
    response_model=ConnectionsOut,
    summary="A member's connections, strongest first",
)
async def list_connections(
    member_id: uuid.UUID,
    graph: GraphDep,
    strength: StrengthDep,
    at: AtDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_CONNECTIONS)] = service.MAX_CONNECTIONS,
) -> ConnectionsOut:
    return await service.list_connections(graph, strength, str(member_id), at, limit)


@router.get(
    "/connections/{other_id}",
    response_model=ConnectionOut,
    summary="One connection of a member",
    responses={404: {"description": "The two members are not connected"}},
)
async def read_connection(
    member_id: uuid.UUID, other_id: uuid.UUID, graph: GraphDep, strength: StrengthDep, at: AtDep
) -> ConnectionOut:
    return await service.read_connection(graph, strength, str(member_id), str(other_id), at)


@router.get("/health", response_model=HealthOut, summary="How healthy a member's network is")
async def network_health(
    member_id: uuid.UUID, graph: GraphDep, strength: StrengthDep, at: AtDep
) -> HealthOut:
    return await service.network_health(graph, strength, str(member_id), at)
