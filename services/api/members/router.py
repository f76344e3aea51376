from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import problem_responses
from services.api.clock import Now
from services.api.deps import AuthFirstRoute, CurrentMember, SessionDep, SettingsDep
from services.api.members import service as members
from services.api.members.deps import NamedMember
from services.api.members.repository import MemberSearchRepository
from services.api.members.schemas import MemberProfileOut, MeOut, MeUpdateIn, SearchHitOut
from services.api.pagination import PAGE_SIZE, CursorQuery, LimitQuery, Page
from services.api.policies.repository import PolicyRepository
from services.api.schemas import SingleLine

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1",
    tags=["members"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)

RATE_LIMIT_HEADERS: dict[str, Any] = {
    "RateLimit-Policy": {
        "description": 'The daily search limit, e.g. `"daily";q=200;w=86400`',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": "Searches left today and seconds until the count starts again at "
        'midnight UTC, e.g. `"daily";r=199;t=3600`',
        "schema": {"type": "string"},
    },
}
SEARCH_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(
    (400, "The cursor is not one this API issued"),
    (422, "q is shorter than 2 or longer than 100 characters, or not one line"),
    (429, "The daily search limit is reached; see Retry-After and RateLimit"),
)
SEARCH_RESPONSES[429]["headers"] = {
    "Retry-After": {
        "description": "Seconds until midnight UTC, when the count starts again",
        "schema": {"type": "integer"},
    },
    **RATE_LIMIT_HEADERS,
}
SEARCH_RESPONSES[200] = {"headers": RATE_LIMIT_HEADERS}

SearchText = Annotated[
    SingleLine,
    Query(
        min_length=2,
        max_length=100,
        description="A name (or part of one, typos forgiven), company, market area or "
        "headline words; or an exact email address, which finds only a member who allows "
        "being found by email",
    ),
]


@router.get("/me", response_model=MeOut)
async def read_me(me: CurrentMember) -> MeOut:
    return MeOut.model_validate(me)


@router.patch("/me", response_model=MeOut)
async def update_me(changes: MeUpdateIn, me: CurrentMember, session: SessionDep) -> MeOut:
    """Change my profile and settings (who sees my connections, introductions through me,
    who finds me). A new `networking_stance` comes back with `preset_offer` when another
    linking-policy preset fits it: my policy stays as it is until I PUT that preset."""
    stance = me.networking_stance
    updated = await members.update_me(MemberRepository(session), me, changes)
    out = MeOut.model_validate(updated)
    if updated.networking_stance != stance:
        out.preset_offer = await members.preset_offer(PolicyRepository(session), updated)
    return out


@router.get("/members", response_model=Page[SearchHitOut], responses=SEARCH_RESPONSES)
async def search_members(
    q: SearchText,
    me: CurrentMember,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
    response: Response,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[SearchHitOut]:
    """Find members by name, company, market area or headline: the best matches first
    and, among equal matches, the closest (1st, 2nd, 3rd degree as `/degree` says, then
    strangers). Only members who let me find them (`findable_by`); never by part of an
    email address. At most 500 matches per query (the most relevant of at most 2,500
    scored of each kind: a broader query must be narrowed), and a daily number of
    searches per member (each page counts), against scraping (docs/search.md)."""
    page, quota = await members.search_members(
        MemberSearchRepository(session), settings.search, me.id, q, limit, cursor, now
    )
    response.headers.update(quota.headers())
    return page


@router.get(
    "/members/{member_id}",
    response_model=MemberProfileOut,
    responses=problem_responses((404, "No such member")),
)
async def read_member(member: NamedMember) -> MemberProfileOut:
    return MemberProfileOut.model_validate(member)
