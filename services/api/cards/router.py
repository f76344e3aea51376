from fastapi import APIRouter

from rapport_common.web.problems import problem_responses
from services.api.cards import service
from services.api.cards.schemas import CardOut
from services.api.deps import AuthFirstRoute, CurrentMember
from services.api.invitations.deps import ContextDep
from services.api.network.deps import OtherMember

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1",
    tags=["members"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)


@router.get(
    "/members/{member_id}/card",
    response_model=CardOut,
    responses=problem_responses(
        (404, "No such member (as for one who blocked me)"), (422, "The member is you")
    ),
)
async def read_card(other: OtherMember, me: CurrentMember, ctx: ContextDep) -> CardOut:
    """A profile page in one call: the profile, my degree to them, how many mutual
    connections I may see, and whether I may invite them (connected, possible, an
    invitation open either way, a cool-down, or blocked by me)."""
    return await service.card(ctx, me, other)
