"""Dependencies that load a recommendation, or the member whose recommendations are
asked for, *and* check that I may see them."""

import uuid
from typing import Annotated

from fastapi import Depends

from rapport_common.domain import privacy
from rapport_common.models.enums import ConnectionVisibility
from rapport_common.models.members import Member
from rapport_common.models.recommendations import Recommendation
from rapport_common.repositories.blocks import BlockRepository
from rapport_common.web.problems import Forbidden, NotFound
from services.api.connections.repository import ConnectionRepository
from services.api.deps import CurrentMember, SessionDep
from services.api.members.deps import NamedMember
from services.api.recommendations.repository import RecommendationRepository


class RecommendationsHidden(Forbidden):
    slug, title = "recommendations-hidden", "This member's recommendations are private"


async def get_repository(session: SessionDep) -> RecommendationRepository:
    return RecommendationRepository(session)


RepositoryDep = Annotated[RecommendationRepository, Depends(get_repository)]


async def get_my_recommendation(
    recommendation_id: uuid.UUID, me: CurrentMember, repository: RepositoryDep
) -> Recommendation:
    """One I wrote or that was written of me, locked for this request's change; the same
    404 for someone else's, and for one with a member either of us blocked."""
    recommendation = await repository.get(recommendation_id, for_update=True)
    if (
        recommendation is None
        or me.id not in (recommendation.author_id, recommendation.subject_id)
        or await BlockRepository(repository.session).between(
            recommendation.author_id, recommendation.subject_id
        )
    ):
        raise NotFound(f"You have no recommendation {recommendation_id}.")
    return recommendation


async def get_member_showing_recommendations(
    member: NamedMember, me: CurrentMember, session: SessionDep
) -> Member:
    """The member, if their ``recommendations_visible_to`` lets me read theirs: the same
    audiences as a list of connections (docs/privacy.md)."""
    setting = ConnectionVisibility(member.recommendations_visible_to)
    if me.id == member.id or setting in privacy.list_audiences(viewer_knows_member=False):
        return member
    if setting in privacy.list_audiences(viewer_knows_member=True) and await ConnectionRepository(
        session
    ).are_connected(me.id, member.id):
        return member
    audience = "their connections" if setting == ConnectionVisibility.CONNECTIONS else "no one"
    raise RecommendationsHidden(f"{member.name} shows their recommendations to {audience}.")


MyRecommendation = Annotated[Recommendation, Depends(get_my_recommendation)]
MemberShowingRecommendations = Annotated[Member, Depends(get_member_showing_recommendations)]
