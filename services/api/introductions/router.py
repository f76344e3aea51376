from fastapi import APIRouter, Request, Response

from rapport_common.models.introductions import Introduction
from rapport_common.models.members import Member
from rapport_common.web.problems import problem_responses
from services.api.deps import AuthFirstRoute, CurrentMember, SessionDep, VerifiedMember
from services.api.idempotency.service import IdempotencyKeyHeader, fingerprint, run_idempotent
from services.api.introductions import service as introductions
from services.api.introductions.deps import MyIntroduction, RepositoryDep
from services.api.introductions.schemas import (
    ForwardIn,
    IntroductionAcceptIn,
    IntroductionIn,
    IntroductionOut,
)
from services.api.invitations.deps import ContextDep
from services.api.pagination import PAGE_SIZE, CursorQuery, LimitQuery, Page, after_time, window
from services.api.schemas import ContactOut

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1/introductions",
    tags=["introductions"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)
STEP = problem_responses(
    (403, "Another member's move"),
    (404, "No such introduction among mine"),
    (409, "Not possible in this state"),
)


async def _render(ctx: ContextDep, items: list[Introduction], me: Member) -> list[IntroductionOut]:
    ids = {m for i in items for m in (i.requester_id, i.intermediary_id, i.target_id)}
    members = await ctx.members.get_many(ids)
    return [
        IntroductionOut(
            introduction_id=i.id,
            my_role=i.role_of(me.id),
            requester=ContactOut.from_member(members[i.requester_id]),
            intermediary=ContactOut.from_member(members[i.intermediary_id]),
            target=ContactOut.from_member(members[i.target_id]),
            status=i.status,
            declined_by=i.declined_by,
            note=None if i.role_of(me.id) == "target" else i.note,
            intermediary_note=i.intermediary_note,
            invitation_id=i.invitation_id,
            created_at=i.created_at,
        )
        for i in items
    ]


@router.post(
    "",
    status_code=201,
    response_model=IntroductionOut,
    responses=problem_responses(
        (403, "Your email address is not verified yet (`email-unverified`)"),
        (404, "No such member"),
        (409, "Already connected or already asked"),
        (422, "The intermediary is not my connection, or cannot introduce"),
    ),
)
async def request_introduction(
    data: IntroductionIn,
    request: Request,
    me: VerifiedMember,
    ctx: ContextDep,
    session: SessionDep,
    repository: RepositoryDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Ask one of my connections to introduce me to one of theirs."""

    async def create() -> IntroductionOut:
        introduction = await introductions.request(ctx, repository, me, data)
        return (await _render(ctx, [introduction], me))[0]

    request_hash = fingerprint("POST", request.url.path, data)
    return await run_idempotent(session, str(me.id), idempotency_key, request_hash, create)


@router.get("", response_model=Page[IntroductionOut])
async def list_introductions(
    me: CurrentMember,
    ctx: ContextDep,
    repository: RepositoryDep,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[IntroductionOut]:
    """Introductions I asked for, was asked to make, or was offered. Newest first."""
    rows = await repository.page_for(me.id, limit, after_time(cursor))
    found = window(rows, limit, lambda i: (i.created_at, i.id))
    return found.page(await _render(ctx, found.rows, me))


@router.get(
    "/{introduction_id}",
    response_model=IntroductionOut,
    responses=problem_responses((404, "No such introduction among mine")),
)
async def read_introduction(
    introduction: MyIntroduction, me: CurrentMember, ctx: ContextDep
) -> IntroductionOut:
    return (await _render(ctx, [introduction], me))[0]


@router.post("/{introduction_id}/forward", response_model=IntroductionOut, responses=STEP)
async def forward_introduction(
    data: ForwardIn, introduction: MyIntroduction, me: CurrentMember, ctx: ContextDep
) -> IntroductionOut:
    """As the intermediary: pass it on to the target, in my own words."""
    await introductions.forward(ctx, introduction, me, data.note)
    return (await _render(ctx, [introduction], me))[0]


@router.post("/{introduction_id}/decline", response_model=IntroductionOut, responses=STEP)
async def decline_introduction(
    introduction: MyIntroduction, me: CurrentMember, ctx: ContextDep
) -> IntroductionOut:
    """As the intermediary (before forwarding) or the target (after)."""
    await introductions.decline(ctx, introduction, me)
    return (await _render(ctx, [introduction], me))[0]


@router.post("/{introduction_id}/accept", response_model=IntroductionOut, responses=STEP)
async def accept_introduction(
    introduction: MyIntroduction,
    me: CurrentMember,
    ctx: ContextDep,
    data: IntroductionAcceptIn = IntroductionAcceptIn(),
) -> IntroductionOut:
    """As the target: creates the requester's invitation, introduced by the intermediary,
    which my policy does not second-guess. With my rating of the requester we are
    connected at once; without it, I accept the invitation with a rating later."""
    await introductions.accept(ctx, introduction, me, data.rating)
    return (await _render(ctx, [introduction], me))[0]
