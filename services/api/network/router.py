from fastapi import APIRouter

from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import problem_responses
from services.api.clock import Now
from services.api.connections.deps import RepositoryDep as ConnectionsDep
from services.api.deps import AuthFirstRoute, CurrentMember, SessionDep
from services.api.graph_client import GraphDep
from services.api.network import ordering
from services.api.network import service as network
from services.api.network.deps import MemberSharingConnections, OtherMember
from services.api.network.schemas import (
    DegreeOut,
    MutualOut,
    NetworkHealthOut,
    PathPage,
    RatedContactOut,
    WeedOutCandidate,
)
from services.api.pagination import (
    PAGE_SIZE,
    CursorQuery,
    LimitQuery,
    Page,
    after_key,
    after_name,
    ranked,
    window,
)
from services.api.schemas import ContactOut

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1",
    tags=["network"],
    responses=problem_responses(
        (401, "Not signed in, or the token expired"),
        (503, "The connection graph is unavailable; retry after Retry-After"),
    ),
)
ABOUT_MEMBER = problem_responses((404, "No such member"), (422, "The member is you"))


# Each path is a search of the graph: a short first page unless more are asked for.
PATHS_PAGE_SIZE = 5


@router.get("/members/{member_id}/paths", response_model=PathPage, responses=ABOUT_MEMBER)
async def introduction_paths(
    target: OtherMember,
    me: CurrentMember,
    session: SessionDep,
    graph: GraphDep,
    now: Now,
    limit: LimitQuery = PATHS_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> PathPage:
    """Whom to ask for an introduction: paths of 2 or 3 hops through members who allow
    introductions, as far as the target lets ways to them be seen, one per first
    intermediary. Best first: by the links' bands (my first link by my own rating of
    it), then fewer hops, then member ids. Each link shows a band, never a rating or a
    score (docs/privacy.md). Pages of 5 unless `limit` says otherwise (every other list:
    20), the best 100 paths in all."""
    after = after_key(cursor, ordering.after_path)
    return await network.paths(graph, MemberRepository(session), me, target, limit, after, now)


@router.get("/members/{member_id}/mutuals", response_model=Page[MutualOut], responses=ABOUT_MEMBER)
async def mutual_connections(
    target: OtherMember,
    me: CurrentMember,
    session: SessionDep,
    graph: GraphDep,
    now: Now,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[MutualOut]:
    """Our mutual connections who allow introductions (none when they keep ways to
    them to direct links), the one who knows them best first, then by member id."""
    after = after_key(cursor, ordering.after_mutual)
    rows = await network.mutuals(graph, MemberRepository(session), me, target, now)
    found = ranked(rows, limit, after, ordering.mutual_key, ordering.mutual_cursor)
    return found.page(found.rows)


@router.get("/members/{member_id}/degree", response_model=DegreeOut, responses=ABOUT_MEMBER)
async def degree(
    target: OtherMember, me: CurrentMember, session: SessionDep, graph: GraphDep, now: Now
) -> DegreeOut:
    """How many hops away they are: 1 if we are connected, else 2 or 3 when a path I may
    see exists (the same as in their paths), else null."""
    return await network.degree(graph, MemberRepository(session), me, target, now)


@router.get(
    "/members/{member_id}/connections",
    response_model=Page[ContactOut],
    responses=problem_responses(
        (403, "The member keeps their connections private"), (404, "No such member")
    ),
)
async def member_connections(
    member: MemberSharingConnections,
    me: CurrentMember,
    connections: ConnectionsDep,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[ContactOut]:
    """Someone's connections, if their visibility setting lets me see them; each
    connection shows only if that member's own setting lets me see it too."""
    rows = await connections.page_for(member.id, limit, after_name(cursor), viewer_id=me.id)
    found = window(rows, limit, lambda row: (row[1].name, row[1].id))
    return found.page([ContactOut.from_member(other) for _, other in found.rows])


@router.get("/me/network/health", response_model=NetworkHealthOut)
async def network_health(
    me: CurrentMember,
    session: SessionDep,
    graph: GraphDep,
    now: Now,
    limit: LimitQuery = PAGE_SIZE,
) -> NetworkHealthOut:
    """My relationships at a glance: how strong, which are fading, which could go (the
    first page of each list; `limit` sizes both)."""
    return await network.health(graph, MemberRepository(session), me, now, limit)


@router.get(
    "/me/network/health/fading",
    response_model=Page[RatedContactOut],
)
async def fading_connections(
    me: CurrentMember,
    session: SessionDep,
    graph: GraphDep,
    now: Now,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[RatedContactOut]:
    """The connections faded 2 or more below my rating, the most faded first."""
    after = after_key(cursor, ordering.after_fading)
    return await network.fading(graph, MemberRepository(session), me, now, limit, after)


@router.get("/me/network/health/weed-out", response_model=Page[WeedOutCandidate])
async def weed_out_candidates(
    me: CurrentMember,
    session: SessionDep,
    graph: GraphDep,
    now: Now,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[WeedOutCandidate]:
    """The connections I might remove: rated 2 or less, or 3 or less with no
    interaction for 90 days; the lowest rating, then the longest silent first."""
    after = after_key(cursor, ordering.after_weed_out)
    return await network.weed_out(graph, MemberRepository(session), me, now, limit, after)
