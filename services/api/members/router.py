from fastapi import APIRouter

from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import problem_responses
from services.api.deps import CurrentMember, SessionDep
from services.api.members import service as members
from services.api.members.deps import NamedMember
from services.api.members.schemas import MemberProfileOut, MeOut, MeUpdateIn

router = APIRouter(
    prefix="/v1",
    tags=["members"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)


@router.get("/me", response_model=MeOut)
async def read_me(me: CurrentMember) -> MeOut:
    return MeOut.model_validate(me)


@router.patch("/me", response_model=MeOut)
async def update_me(changes: MeUpdateIn, me: CurrentMember, session: SessionDep) -> MeOut:
    """Change my profile and settings (who sees my connections, introductions through me)."""
    updated = await members.update_me(MemberRepository(session), me, changes)
    return MeOut.model_validate(updated)


@router.get(
    "/members/{member_id}",
    response_model=MemberProfileOut,
    responses=problem_responses((404, "No such member")),
)
async def read_member(member: NamedMember) -> MemberProfileOut:
    return MemberProfileOut.model_validate(member)
