"""Recommendations from real relationships: who may write one, and what the subject and
the author may do with it afterwards."""

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from rapport_common.events import RecommendationEventV1
from rapport_common.models.connections import Connection
from rapport_common.models.enums import (
    LIVE_RECOMMENDATION_STATUSES,
    ConnectionVisibility,
    RecommendationStatus,
)
from rapport_common.models.members import Member
from rapport_common.models.recommendations import Recommendation
from rapport_common.outbox import record_event
from rapport_common.settings import RecommendationSettings
from rapport_common.web.problems import Conflict, Forbidden, Problem
from services.api.recommendations.repository import RecommendationRepository
from services.api.recommendations.schemas import Condition

# Logged interactions that mean the two met in person. "worked together" is not an
# interaction kind; it counts through how the two met.
IN_PERSON_KINDS = ("coffee", "meal", "beer", "event")
MET_IN_PERSON = frozenset({*IN_PERSON_KINDS, "worked_together"})


class CannotRecommend(Problem):
    status, slug, title = 422, "cannot-recommend", "This recommendation cannot be written yet"


class RecommendationExists(Conflict):
    slug, title = "recommendation-exists", "You already recommended this member"


class RecommendationClosed(Conflict):
    slug, title = "recommendation-closed", "Not possible in this state"


class NotYourRecommendation(Forbidden):
    slug, title = "not-your-recommendation", "The other member's move"


async def unmet_conditions(
    repository: RecommendationRepository,
    settings: RecommendationSettings,
    author: Member,
    connection: Connection,
    now: datetime,
) -> dict[Condition, str]:
    """Each condition the author does not meet, with what to tell them. All are the
    author's own data: the connection's age, their own rating, what they logged."""
    unmet: dict[Condition, str] = {}
    age = now - connection.connected_at
    if age.days < settings.min_days:
        unmet["connection_age"] = (
            f"you have been connected for {settings.min_days} days ({age.days} so far)"
        )
    rating = connection.rating_by(author.id)
    if rating is None or rating < settings.min_rating:
        yours = "you have not rated them" if rating is None else f"your rating is {rating}"
        unmet["my_rating"] = f"you rate them {settings.min_rating} or more ({yours})"
    if connection.how_we_met not in MET_IN_PERSON and not await repository.logged_any(
        connection, author.id, IN_PERSON_KINDS
    ):
        unmet["met_in_person"] = (
            "you have met in person: log a coffee, a meal, a beer or an event together"
        )
    if author.connections_visible_to == ConnectionVisibility.ONLY_ME:
        unmet["connections_visible"] = (
            "your connections are set to only you; a recommendation would show one of them"
        )
    return unmet


def _event(recommendation: Recommendation) -> RecommendationEventV1:
    return RecommendationEventV1(
        recommendation_id=recommendation.id,
        author_id=recommendation.author_id,
        subject_id=recommendation.subject_id,
    )


async def write(
    repository: RecommendationRepository,
    settings: RecommendationSettings,
    author: Member,
    subject: Member,
    connection: Connection,
    body: str,
    now: datetime,
) -> Recommendation:
    if await repository.has_live(author.id, subject.id):
        raise RecommendationExists(
            f"You already recommended {subject.name}; edit or withdraw that one."
        )
    unmet = await unmet_conditions(repository, settings, author, connection, now)
    if unmet:
        raise CannotRecommend(
            f"You can recommend {subject.name} once {'; '.join(unmet.values())}.",
            unmet=list(unmet),
        )
    recommendation = Recommendation(
        id=uuid.uuid4(),
        author_id=author.id,
        subject_id=subject.id,
        body=body,
        status=RecommendationStatus.REQUESTED,
        created_at=now,
        updated_at=now,
    )
    try:
        await repository.add(recommendation)
    except IntegrityError as exc:  # the same author wrote one at the same moment
        raise RecommendationExists(f"You already recommended {subject.name}.") from exc
    await record_event(repository.session, "recommendation.requested", _event(recommendation))
    return recommendation


def _require(
    recommendation: Recommendation,
    me: Member,
    author: bool,
    allowed: tuple[RecommendationStatus, ...],
    verb: str,
) -> None:
    owner = recommendation.author_id if author else recommendation.subject_id
    if owner != me.id:
        role = "author" if author else "member recommended"
        raise NotYourRecommendation(f"Only the {role} can {verb} this recommendation.")
    if recommendation.status not in allowed:
        raise RecommendationClosed(f"This recommendation is {recommendation.status}.")


async def _move(
    repository: RecommendationRepository,
    recommendation: Recommendation,
    status: RecommendationStatus,
    event_type: str,
    now: datetime,
    change: Callable[[Recommendation], None] | None = None,
) -> None:
    recommendation.status = status
    recommendation.updated_at = now
    if change is not None:
        change(recommendation)
    await repository.session.flush()
    await record_event(repository.session, event_type, _event(recommendation))


async def edit(
    repository: RecommendationRepository,
    recommendation: Recommendation,
    me: Member,
    body: str,
    now: datetime,
) -> None:
    """New words go back to the subject to approve: what they approved is not what
    would show."""
    _require(recommendation, me, True, LIVE_RECOMMENDATION_STATUSES, "edit")

    def rewrite(r: Recommendation) -> None:
        r.body = body
        r.approved_at = None

    await _move(
        repository,
        recommendation,
        RecommendationStatus.REQUESTED,
        "recommendation.requested",
        now,
        rewrite,
    )


async def withdraw(
    repository: RecommendationRepository, recommendation: Recommendation, me: Member, now: datetime
) -> None:
    _require(recommendation, me, True, LIVE_RECOMMENDATION_STATUSES, "withdraw")
    await _move(
        repository, recommendation, RecommendationStatus.WITHDRAWN, "recommendation.withdrawn", now
    )


async def approve(
    repository: RecommendationRepository, recommendation: Recommendation, me: Member, now: datetime
) -> None:
    _require(recommendation, me, False, (RecommendationStatus.REQUESTED,), "approve")

    def stamp(r: Recommendation) -> None:
        r.approved_at = now

    await _move(
        repository,
        recommendation,
        RecommendationStatus.APPROVED,
        "recommendation.approved",
        now,
        stamp,
    )


async def decline(
    repository: RecommendationRepository, recommendation: Recommendation, me: Member, now: datetime
) -> None:
    _require(recommendation, me, False, (RecommendationStatus.REQUESTED,), "decline")
    await _move(
        repository, recommendation, RecommendationStatus.DECLINED, "recommendation.declined", now
    )


async def hide(
    repository: RecommendationRepository, recommendation: Recommendation, me: Member, now: datetime
) -> None:
    _require(recommendation, me, False, (RecommendationStatus.APPROVED,), "hide")
    await _move(
        repository, recommendation, RecommendationStatus.HIDDEN, "recommendation.hidden", now
    )


async def show(
    repository: RecommendationRepository, recommendation: Recommendation, me: Member, now: datetime
) -> None:
    _require(recommendation, me, False, (RecommendationStatus.HIDDEN,), "show")
    await _move(
        repository, recommendation, RecommendationStatus.APPROVED, "recommendation.shown", now
    )


async def close_between(
    repository: RecommendationRepository, blocker: uuid.UUID, blocked: uuid.UUID, now: datetime
) -> None:
    """On a block, close what is live between the two as the blocker could have by hand:
    their own are withdrawn; of those about them, one waiting is declined and one shown
    is hidden. The blocked member sees nothing they could not see from an ordinary no."""
    for recommendation in await repository.live_between(blocker, blocked):
        if recommendation.author_id == blocker:
            status, event_type = RecommendationStatus.WITHDRAWN, "recommendation.withdrawn"
        elif recommendation.status == RecommendationStatus.REQUESTED:
            status, event_type = RecommendationStatus.DECLINED, "recommendation.declined"
        elif recommendation.status == RecommendationStatus.APPROVED:
            status, event_type = RecommendationStatus.HIDDEN, "recommendation.hidden"
        else:
            continue  # already hidden
        await _move(repository, recommendation, status, event_type, now)
