import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import NotFound, problem_responses
from services.api.clock import Now
from services.api.connections.repository import ConnectionRepository
from services.api.connections.schemas import ContactOut
from services.api.connections.service import check_can_see_connections
from services.api.deps import CurrentMember, SessionDep
from services.api.graph_client import GraphDep
from services.api.network import service as network
from services.api.network.schemas import DegreeOut, MutualsOut, NetworkHealthOut, PathsOut
from services.api.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor

router = APIRouter(
    prefix="/v1",
    tags=["network"],
    responses=problem_responses(
        (401, "Not signed in, or the token expired"),
        (503, "The connection graph is unavailable; retry after Retry-After"),
    ),
)
ABOUT_MEMBER = problem_responses((404, "No such member"), (422, "The member is you"))


@router.get("/members/{member_id}/paths", response_model=PathsOut, responses=ABOUT_MEMBER)
async def introduction_paths(
    member_id: uuid.UUID,
    me: CurrentMember,
    session: SessionDep,
    graph: GraphDep,
    now: Now,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
) -> PathsOut:
    """Whom to ask for an introduction: paths of 2 or 3 hops through members who allow
    introductions, best first (score, then fewer hops), one per first intermediary.
    Each link shows a band, never a rating."""
    members = MemberRepository(session)
    target = await network.existing_member(members, me, member_id)
    return await network.paths(graph, members, me, target, limit, now)


@router.get("/members/{member_id}/mutuals", response_model=MutualsOut, responses=ABOUT_MEMBER)
async def mutual_connections(
    member_id: uuid.UUID, me: CurrentMember, session: SessionDep, graph: GraphDep, now: Now
) -> MutualsOut:
    """Our mutual connections, the one who knows them best first."""
    members = MemberRepository(session)
    target = await network.existing_member(members, me, member_id)
    return await network.mutuals(graph, members, me, target, now)


@router.get("/members/{member_id}/degree", response_model=DegreeOut, responses=ABOUT_MEMBER)
async def degree(
    member_id: uuid.UUID, me: CurrentMember, session: SessionDep, graph: GraphDep
) -> DegreeOut:
    target = await network.existing_member(MemberRepository(session), me, member_id)
    return DegreeOut(degree=await graph.degree(me.id, target.id))


@router.get(
    "/members/{member_id}/connections",
    response_model=Page[ContactOut],
    responses=problem_responses(
        (403, "The member keeps their connections private"), (404, "No such member")
    ),
)
async def member_connections(
    member_id: uuid.UUID,
    me: CurrentMember,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ContactOut]:
    """Someone's connections, if their visibility setting lets me see them."""
    member = await MemberRepository(session).get(member_id)
    if member is None:
        raise NotFound(f"There is no member {member_id}.")
    repository = ConnectionRepository(session)
    await check_can_see_connections(repository, me, member)
    rows = await repository.page_for(member.id, limit, decode_cursor(cursor) if cursor else None)
    items = [ContactOut(member_id=o.id, name=o.name, headline=o.headline) for _, o in rows[:limit]]
    last = rows[limit - 1][1] if len(rows) > limit else None
    return Page(items=items, next_cursor=encode_cursor(last.name, last.id) if last else None)


@router.get("/me/network/health", response_model=NetworkHealthOut)
async def network_health(
    me: CurrentMember, session: SessionDep, graph: GraphDep, now: Now
) -> NetworkHealthOut:
    """My relationships at a glance: how strong, which are fading, which could go."""
    return await network.health(graph, MemberRepository(session), me, now)
