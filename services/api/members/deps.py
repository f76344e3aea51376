"""Dependencies that load a member named in the path."""

import uuid
from typing import Annotated

from fastapi import Depends

from rapport_common.models.members import Member
from rapport_common.repositories.blocks import BlockRepository
from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import NotFound
from services.api.deps import CurrentMember, SessionDep


async def get_member(member_id: uuid.UUID, me: CurrentMember, session: SessionDep) -> Member:
    """Any member, for anyone signed in: profiles are visible to every member. A member
    who blocked me gets the answer a member who does not exist gets, word for word."""
    member = await MemberRepository(session).get(member_id)
    if member is None or await BlockRepository(session).blocks(member.id, me.id):
        raise NotFound(f"There is no member {member_id}.")
    return member


NamedMember = Annotated[Member, Depends(get_member)]
