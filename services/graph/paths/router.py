import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rapport_common.clock import Clock
from rapport_common.strength import as_utc
from rapport_common.web.inputs import Instant
from services.graph.database import Graph
from services.graph.deps import AtDep, GraphDep, StrengthDep, bearer_token, check_service_token
from services.graph.paths import service
from services.graph.paths.schemas import DegreeOut, MutualsOut, PathsOut

router = APIRouter(prefix="/internal/v1", tags=["internal: paths"])

MemberQuery = Annotated[uuid.UUID, Query(description="A member id (UUID).")]
PATHS_PATH = "/internal/v1/paths"
LIMIT_DEFAULT, LIMIT_MAX = 5, 100


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
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = LIMIT_DEFAULT,
) -> PathsOut:
    """Documents the endpoint: ``lean_paths`` answers it, with the same checks."""
    return await service.find_paths(graph, strength, str(source), str(target), limit, at)


class _PathsQuery(BaseModel):
    """``find_paths``'s query parameters, with the same types and constraints."""

    source: uuid.UUID
    target: uuid.UUID
    limit: int = Field(LIMIT_DEFAULT, ge=1, le=LIMIT_MAX)
    at: Instant | None = None


async def lean_paths(request: Request) -> Response:
    """``GET /internal/v1/paths`` without FastAPI's dependency resolution and response
    model, which took about a third of the service's CPU per search (bench/README.md,
    "Findings"). The same answer and the same problems, in the same order: the service
    token (401), the query (422 ``validation-error``, FastAPI's own handler and wording),
    then the search (422 ``same-member``, 503)."""
    check_service_token(request, bearer_token(request))
    try:
        query = _PathsQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("query", *error["loc"])} for error in exc.errors()]
        ) from None
    state = request.app.state
    clock: Clock = state.clock
    graph: Graph = state.graph
    at = clock() if query.at is None else as_utc(query.at)
    body = await service.paths_body(
        graph, state.settings.strength, str(query.source), str(query.target), query.limit, at
    )
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        media_type="application/json",
    )


# Placed ahead of the FastAPI routes (services/graph/main.py), so they answer first.
# GET alone, as FastAPI's route: Starlette would add HEAD, which FastAPI's refuses (405).
lean_routes = [Route(PATHS_PATH, lean_paths, methods=["GET"])]
for _route in lean_routes:
    _route.methods = {"GET"}


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
