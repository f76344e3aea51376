"""Dependencies that load a member named in the path."""

import uuid
from typing import Annotated

from fastapi import Depends

from rapport_common.models.members import Member
from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import NotFound
from services.api.deps import CurrentMember, SessionDep


async def get_member(member_id: uuid.UUID, _: CurrentMember, session: SessionDep) -> Member:
    """Any member, for anyone signed in: profiles are visible to every member."""
    member = await MemberRepository(session).get(member_id)
    if member is None:
        raise NotFound(f"There is no member {member_id}.")
    return member


NamedMember = Annotated[Member, Depends(get_member)]
