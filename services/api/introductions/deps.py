"""Dependencies that load an introduction *and* check who may see it."""

import uuid
from typing import Annotated

from fastapi import Depends

from rapport_common.models.introductions import Introduction
from rapport_common.repositories.blocks import BlockRepository
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
    if (
        introduction is None
        or introduction.visible_role(me.id) is None
        or await _blocked_with_me(repository, introduction, me.id)
    ):
        # The same answer whether it does not exist or is someone else's: no existence leak.
        raise NotFound(f"You have no introduction {introduction_id}.")
    return introduction


async def _blocked_with_me(
    repository: IntroductionRepository, introduction: Introduction, me_id: uuid.UUID
) -> bool:
    """One with a member I blocked or who blocked me is gone for me, as in my list."""
    related = await BlockRepository(repository.session).related_to(me_id)
    members = {introduction.requester_id, introduction.intermediary_id, introduction.target_id}
    return bool(related & members)


MyIntroduction = Annotated[Introduction, Depends(get_my_introduction)]
