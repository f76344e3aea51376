import uuid

from fastapi import APIRouter, Response

from rapport_common.repositories.blocks import BlockRepository
from rapport_common.web.problems import problem_responses
from services.api.blocks import service as blocking
from services.api.blocks.repository import BlockingRepository
from services.api.blocks.schemas import BlockedOut
from services.api.clock import Now
from services.api.deps import AuthFirstRoute, CurrentMember, SessionDep
from services.api.network.deps import OtherMember
from services.api.pagination import PAGE_SIZE, CursorQuery, LimitQuery, Page, after_time, window
from services.api.schemas import ContactOut

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1/blocks",
    tags=["blocks"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)


@router.get("", response_model=Page[BlockedOut])
async def list_blocked(
    me: CurrentMember,
    session: SessionDep,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[BlockedOut]:
    """The members I blocked, the latest first."""
    rows = await BlockingRepository(session).page_blocked_by(me.id, limit, after_time(cursor))
    found = window(rows, limit, lambda row: (row[0].created_at, row[0].blocked_id))
    return found.page(
        [
            BlockedOut(member=ContactOut.from_member(member), blocked_at=block.created_at)
            for block, member in found.rows
        ]
    )


@router.post(
    "/{member_id}",
    status_code=204,
    responses=problem_responses((404, "No such member"), (422, "The member is me")),
)
async def block_member(
    other: OtherMember, me: CurrentMember, session: SessionDep, now: Now
) -> Response:
    """Block a member: they can no longer invite me, ask for or take part in
    introductions with me, or see anything of me (to them I am no member at all); we
    disappear from each other's search, paths and mutual connections; our connection
    is removed and whatever is open between us is closed. They are never told.
    Blocking again changes nothing."""
    await blocking.block(BlockingRepository(session), me, other, now)
    return Response(status_code=204)


@router.delete(
    "/{member_id}",
    status_code=204,
    responses=problem_responses((404, "I have not blocked that member")),
)
async def unblock_member(member_id: uuid.UUID, me: CurrentMember, session: SessionDep) -> Response:
    """Lift a block. What it removed (our connection, invitations, introductions)
    stays removed."""
    await blocking.unblock(BlockRepository(session), me, member_id)
    return Response(status_code=204)
