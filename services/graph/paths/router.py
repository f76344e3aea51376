import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.graph.deps import AtDep, GraphDep, StrengthDep
from services.graph.paths import service
from services.graph.paths.schemas import DegreeOut, MutualsOut, PathsOut

router = APIRouter(prefix="/internal/v1", tags=["internal: paths"])

MemberQuery = Annotated[uuid.UUID, Query(description="A member id (UUID).")]


@router.get(
    "/paths",
    response_model=PathsOut,
    summary="Introduction paths of 2 or 3 hops, best first",
    responses={422: {"description": "Invalid ids, or source and target are the same"}},
)
async def find_paths(
    source: MemberQuery,
    target: MemberQuery,
    graph: GraphDep,
    strength: StrengthDep,
    at: AtDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
) -> PathsOut:
    return await service.find_paths(graph, strength, str(source), str(target), limit, at)


@router.get("/mutuals", response_model=MutualsOut, summary="Common connections of two members")
async def find_mutuals(
    member_id: MemberQuery, other_id: MemberQuery, graph: GraphDep, strength: StrengthDep, at: AtDep
) -> MutualsOut:
    return await service.find_mutuals(graph, strength, str(member_id), str(other_id), at)


@router.get("/degree", response_model=DegreeOut, summary="Degree of separation, up to 3")
async def find_degree(
    source: MemberQuery, target: MemberQuery, graph: GraphDep, strength: StrengthDep, at: AtDep
) -> DegreeOut:
    return await service.find_degree(graph, strength, str(source), str(target), at)
