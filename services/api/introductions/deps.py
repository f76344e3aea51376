"""Dependencies that load an introduction *and* check who may see it."""

import uuid
from typing import Annotated

from fastapi import Depends

from rapport_common.models.introductions import Introduction
from rapport_common.web.problems import NotFound
from services.api.deps import CurrentMember, SessionDep
from services.api.introductions.repository import IntroductionRepository


async def get_repository(session: SessionDep) -> IntroductionRepository:
    return IntroductionRepository(session)


RepositoryDep = Annotated[IntroductionRepository, Depends(get_repository)]


async def get_my_introduction(
    introduction_id: uuid.UUID, me: CurrentMember, repository: RepositoryDep
) -> Introduction:
    """The introduction, if I am one of its three members and it is shown to me yet."""
    introduction = await repository.get(introduction_id)
    if introduction is None or introduction.visible_role(me.id) is None:
        # The same answer whether it does not exist or is someone else's: no existence leak.
        raise NotFound(f"You have no introduction {introduction_id}.")
    return introduction


MyIntroduction = Annotated[Introduction, Depends(get_my_introduction)]
