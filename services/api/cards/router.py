from fastapi import APIRouter

from rapport_common.repositories.blocks import BlockRepository
from rapport_common.web.problems import NotFound, problem_responses
from services.api.cards import service
from services.api.cards.schemas import CardOut
from services.api.deps import CurrentMember
from services.api.invitations.deps import ContextDep
from services.api.network.deps import OtherMember

router = APIRouter(
    prefix="/v1",
    tags=["members"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)


@router.get(
    "/members/{member_id}/card",
    response_model=CardOut,
    responses=problem_responses((404, "No such member"), (422, "The member is you")),
)
async def read_card(other: OtherMember, me: CurrentMember, ctx: ContextDep) -> CardOut:
    """A profile page in one call: the profile, my degree to them, how many mutual
    connections I may see, and whether I may invite them (connected, possible, an
    invitation open either way, a cool-down, or blocked by me)."""
    if await BlockRepository(ctx.session).blocks(other.id, me.id):
        # As for a member who does not exist: the blocked member is never told.
        raise NotFound(f"There is no member {other.id}.")
    return await service.card(ctx, me, other)
