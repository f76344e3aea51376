from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from rapport_common.models.members import Member
from rapport_common.models.recommendations import Recommendation
from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import NotFound, problem_responses
from services.api.clock import Now
from services.api.connections.repository import ConnectionRepository
from services.api.deps import AuthFirstRoute, CurrentMember, SessionDep, SettingsDep, VerifiedMember
from services.api.idempotency.service import IdempotencyKeyHeader, fingerprint, run_idempotent
from services.api.network.deps import OtherMember
from services.api.pagination import PAGE_SIZE, CursorQuery, LimitQuery, Page, after_time, window
from services.api.recommendations import service as recommendations
from services.api.recommendations.deps import (
    MemberShowingRecommendations,
    MyRecommendation,
    RepositoryDep,
)
from services.api.recommendations.repository import RecommendationRepository
from services.api.recommendations.schemas import (
    HowWeKnowOut,
    PublicRecommendationOut,
    RecommendationIn,
    RecommendationOut,
)
from services.api.schemas import ContactOut

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1",
    tags=["recommendations"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)
STEP = problem_responses(
    (403, "The other member's move"),
    (404, "No such recommendation among mine"),
    (409, "Not possible in this state"),
)


async def _render(
    repository: RecommendationRepository, items: list[Recommendation]
) -> list[RecommendationOut]:
    ids = {m for r in items for m in (r.author_id, r.subject_id)}
    members = await MemberRepository(repository.session).get_many(ids)
    return [
        RecommendationOut(
            recommendation_id=r.id,
            author=ContactOut.from_member(members[r.author_id]),
            subject=ContactOut.from_member(members[r.subject_id]),
            body=r.body,
            status=r.status,
            created_at=r.created_at,
            updated_at=r.updated_at,
            approved_at=r.approved_at,
        )
        for r in items
    ]


@router.post(
    "/members/{member_id}/recommendations",
    status_code=201,
    response_model=RecommendationOut,
    responses=problem_responses(
        (403, "Your email address is not verified yet (`email-unverified`)"),
        (404, "No such member, or not connected to them"),
        (409, "I already recommended them (a recommendation waiting, shown or hidden)"),
        (
            422,
            "A condition is not met (`unmet` names each: connection_age, my_rating, "
            "met_in_person, connections_visible), or the member is me",
        ),
    ),
)
async def write_recommendation(
    data: RecommendationIn,
    subject: OtherMember,
    request: Request,
    me: VerifiedMember,
    session: SessionDep,
    repository: RepositoryDep,
    settings: SettingsDep,
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Recommend one of my connections. Only from a real relationship: connected for 90
    days or more, my own rating of them 7 or more, and met in person (we met over
    coffee, a meal, a beer, at an event or at work, or I logged such an interaction).
    The subject approves it before anyone else sees it."""

    async def create() -> RecommendationOut:
        connection = await ConnectionRepository(session).get(me.id, subject.id)
        if connection is None:
            raise NotFound(f"You are not connected to member {subject.id}.")
        recommendation = await recommendations.write(
            repository, settings.recommendations, me, subject, connection, data.body, now
        )
        return (await _render(repository, [recommendation]))[0]

    request_hash = fingerprint("POST", request.url.path, data)
    return await run_idempotent(session, str(me.id), idempotency_key, request_hash, create)


@router.get(
    "/members/{member_id}/recommendations",
    response_model=Page[PublicRecommendationOut],
    responses=problem_responses(
        (403, "The member shows their recommendations to no one, or only to their connections"),
        (404, "No such member"),
    ),
)
async def member_recommendations(
    member: MemberShowingRecommendations,
    me: CurrentMember,
    repository: RepositoryDep,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[PublicRecommendationOut]:
    """The recommendations a member approved, newest approval first, each with how the
    two know each other; never a rating. Shown as the member's
    `recommendations_visible_to` allows; writing one is the author's consent to show
    that one link there (docs/privacy.md)."""
    rows = await repository.page_shown(member.id, me.id, limit, after_time(cursor))
    found = window(rows, limit, lambda row: (_approved_at(row[0]), row[0].id))
    return found.page(
        [
            PublicRecommendationOut(
                recommendation_id=recommendation.id,
                author=ContactOut.from_member(author),
                body=recommendation.body,
                how_we_know=HowWeKnowOut.model_validate(
                    {
                        "how_we_met": connection.how_we_met,
                        "since_year": connection.connected_at.year,
                    }
                ),
                approved_at=_approved_at(recommendation),
            )
            for recommendation, author, connection in found.rows
        ]
    )


def _approved_at(recommendation: Recommendation) -> datetime:
    assert recommendation.approved_at is not None  # only approved ones are listed
    return recommendation.approved_at


@router.get("/recommendations", response_model=Page[RecommendationOut])
async def my_recommendations(
    me: CurrentMember,
    repository: RepositoryDep,
    role: Annotated[
        Literal["received", "written"],
        Query(description="received: written of me; written: mine of others"),
    ] = "received",
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[RecommendationOut]:
    """Recommendations written of me, or by me, newest first, whatever their status."""
    rows = await repository.page_mine(me.id, role == "written", limit, after_time(cursor))
    found = window(rows, limit, lambda r: (r.created_at, r.id))
    return found.page(await _render(repository, found.rows))


@router.get(
    "/recommendations/{recommendation_id}",
    response_model=RecommendationOut,
    responses=problem_responses((404, "No such recommendation among mine")),
)
async def read_recommendation(
    recommendation: MyRecommendation, repository: RepositoryDep
) -> RecommendationOut:
    return (await _render(repository, [recommendation]))[0]


Step = Callable[[RecommendationRepository, Recommendation, Member, datetime], Awaitable[None]]


async def _step(
    step: Step,
    recommendation: Recommendation,
    me: Member,
    repository: RecommendationRepository,
    now: datetime,
) -> RecommendationOut:
    await step(repository, recommendation, me, now)
    return (await _render(repository, [recommendation]))[0]


@router.patch(
    "/recommendations/{recommendation_id}",
    response_model=RecommendationOut,
    responses=STEP,
)
async def edit_recommendation(
    data: RecommendationIn,
    recommendation: MyRecommendation,
    me: CurrentMember,
    repository: RepositoryDep,
    now: Now,
) -> RecommendationOut:
    """As the author: new words, which go back to the subject to approve."""
    await recommendations.edit(repository, recommendation, me, data.body, now)
    return (await _render(repository, [recommendation]))[0]


@router.post(
    "/recommendations/{recommendation_id}/withdraw",
    response_model=RecommendationOut,
    responses=STEP,
)
async def withdraw_recommendation(
    recommendation: MyRecommendation, me: CurrentMember, repository: RepositoryDep, now: Now
) -> RecommendationOut:
    """As the author: take it back, shown or not."""
    return await _step(recommendations.withdraw, recommendation, me, repository, now)


@router.post(
    "/recommendations/{recommendation_id}/approve",
    response_model=RecommendationOut,
    responses=STEP,
)
async def approve_recommendation(
    recommendation: MyRecommendation, me: CurrentMember, repository: RepositoryDep, now: Now
) -> RecommendationOut:
    """As the subject: show it on my profile, to whom my setting allows."""
    return await _step(recommendations.approve, recommendation, me, repository, now)


@router.post(
    "/recommendations/{recommendation_id}/decline",
    response_model=RecommendationOut,
    responses=STEP,
)
async def decline_recommendation(
    recommendation: MyRecommendation, me: CurrentMember, repository: RepositoryDep, now: Now
) -> RecommendationOut:
    """As the subject: do not show it; the author is not emailed."""
    return await _step(recommendations.decline, recommendation, me, repository, now)


@router.post(
    "/recommendations/{recommendation_id}/hide",
    response_model=RecommendationOut,
    responses=STEP,
)
async def hide_recommendation(
    recommendation: MyRecommendation, me: CurrentMember, repository: RepositoryDep, now: Now
) -> RecommendationOut:
    """As the subject: stop showing one I approved; `show` brings it back."""
    return await _step(recommendations.hide, recommendation, me, repository, now)


@router.post(
    "/recommendations/{recommendation_id}/show",
    response_model=RecommendationOut,
    responses=STEP,
)
async def show_recommendation(
    recommendation: MyRecommendation, me: CurrentMember, repository: RepositoryDep, now: Now
) -> RecommendationOut:
    """As the subject: show a hidden one again."""
    return await _step(recommendations.show, recommendation, me, repository, now)
