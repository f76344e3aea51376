"""Recommendations from real relationships: written only when every condition holds,
shown only once the subject approves, as the subject's setting allows, never a rating."""

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.api.main import create_app
from tests.conftest import SteppingClock
from tests.factories import SignedIn, invitation_id, sign_in, sign_in_all

BODY = {"body": "Ada untangled our billing system in a week and taught us how."}


async def _connect(
    client: httpx.AsyncClient,
    author: SignedIn,
    subject: SignedIn,
    how_we_met: str = "known_online",
    author_rates: int | None = 8,
) -> None:
    fields: dict[str, object] = {"how_we_met": how_we_met}
    if author_rates is not None:
        fields["my_rating"] = author_rates
    invitation = await invitation_id(client, author, subject, **fields)
    accepted = await client.post(
        f"/v1/invitations/{invitation}/accept", json={"rating": 8}, headers=subject.headers
    )
    assert accepted.status_code == 200, accepted.text


async def _log(
    client: httpx.AsyncClient, by: SignedIn, other: SignedIn, kind: str, clock: SteppingClock
) -> None:
    logged = await client.post(
        f"/v1/connections/{other.member_id}/interactions",
        json={"kind": kind, "occurred_at": clock.now.isoformat()},
        headers=by.headers,
    )
    assert logged.status_code == 201, logged.text


async def _write(client: httpx.AsyncClient, author: SignedIn, subject: SignedIn) -> httpx.Response:
    return await client.post(
        f"/v1/members/{subject.member_id}/recommendations", json=BODY, headers=author.headers
    )


async def _eligible(
    client: httpx.AsyncClient, clock: SteppingClock
) -> tuple[SignedIn, SignedIn, str]:
    """An author and a subject who meet every condition, and the author's recommendation."""
    author, subject = await sign_in_all(client, "Ada Author", "Sam Subject")
    await _connect(client, author, subject, how_we_met="coffee")
    clock.advance(days=90)
    written = await _write(client, author, subject)
    assert written.status_code == 201, written.text
    return author, subject, written.json()["recommendation_id"]


async def _shown(client: httpx.AsyncClient, viewer: SignedIn, subject: SignedIn) -> httpx.Response:
    return await client.get(
        f"/v1/members/{subject.member_id}/recommendations", headers=viewer.headers
    )


async def _act(
    client: httpx.AsyncClient, member: SignedIn, recommendation: str, action: str
) -> httpx.Response:
    return await client.post(
        f"/v1/recommendations/{recommendation}/{action}", headers=member.headers
    )


@dataclass(frozen=True)
class Case:
    how_we_met: str = "known_online"
    author_rates: int | None = 8
    author_logs: str | None = "coffee"
    subject_logs: str | None = None
    days: int = 90
    author_visible_to: str | None = None
    connected: bool = True


CASES = {
    "all-met": (Case(), 201, []),
    "89-days": (Case(days=89), 422, ["connection_age"]),
    "rating-6": (Case(author_rates=6), 422, ["my_rating"]),
    "unrated": (Case(author_rates=None), 422, ["my_rating"]),
    "only-a-call": (Case(author_logs="call"), 422, ["met_in_person"]),
    "only-a-message": (Case(author_logs="message"), 422, ["met_in_person"]),
    "met-only-as-the-subject-logged-it": (
        Case(author_logs=None, subject_logs="coffee"),
        422,
        ["met_in_person"],
    ),
    "worked-together-counts-as-in-person": (
        Case(how_we_met="worked_together", author_logs=None),
        201,
        [],
    ),
    "author-connections-only-me": (
        Case(author_visible_to="only_me"),
        422,
        ["connections_visible"],
    ),
    "every-condition-fails": (
        Case(days=10, author_rates=3, author_logs="call"),
        422,
        ["connection_age", "my_rating", "met_in_person"],
    ),
    "not-connected": (Case(connected=False), 404, None),
}


@pytest.mark.parametrize(("case", "status", "unmet"), CASES.values(), ids=CASES.keys())
async def test_recommendations_are_refused_when_any_condition_fails(
    client: httpx.AsyncClient,
    clock: SteppingClock,
    case: Case,
    status: int,
    unmet: list[str] | None,
) -> None:
    author, subject = await sign_in_all(client, "Ada Author", "Sam Subject")
    if case.connected:
        await _connect(client, author, subject, case.how_we_met, case.author_rates)
        if case.author_logs:
            await _log(client, author, subject, case.author_logs, clock)
        if case.subject_logs:
            await _log(client, subject, author, case.subject_logs, clock)
    if case.author_visible_to:
        await client.patch(
            "/v1/me",
            json={"connections_visible_to": case.author_visible_to},
            headers=author.headers,
        )
    clock.advance(days=case.days)

    response = await _write(client, author, subject)

    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["type"].endswith("/cannot-recommend")
        assert response.json()["unmet"] == unmet
    if status == 404:
        assert response.json()["detail"] == f"You are not connected to member {subject.member_id}."


async def test_recommending_myself_or_a_ghost_is_refused(client: httpx.AsyncClient) -> None:
    me = await sign_in(client)
    myself = await _write(client, me, me)
    assert (myself.status_code, myself.json()["type"].rsplit("/", 1)[1]) == (422, "target-is-you")
    ghost = uuid.uuid4()
    nobody = await client.post(
        f"/v1/members/{ghost}/recommendations", json=BODY, headers=me.headers
    )
    assert (nobody.status_code, nobody.json()["detail"]) == (404, f"There is no member {ghost}.")


async def test_a_second_live_recommendation_of_the_same_member_is_409(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    author, subject, _ = await _eligible(client, clock)
    again = await _write(client, author, subject)
    assert (again.status_code, again.json()["type"].rsplit("/", 1)[1]) == (
        409,
        "recommendation-exists",
    )


async def test_a_recommendation_shows_only_after_approval_and_disappears_when_hidden(
    client: httpx.AsyncClient, clock: SteppingClock, db_session: AsyncSession
) -> None:
    author, subject, recommendation = await _eligible(client, clock)
    connected_year = (clock.now - timedelta(days=90)).year
    viewer = await sign_in(client, "Vera Viewer")
    assert (await _shown(client, viewer, subject)).json()["items"] == []

    approved = await _act(client, subject, recommendation, "approve")
    assert approved.json()["status"] == "approved"
    [shown] = (await _shown(client, viewer, subject)).json()["items"]
    assert shown["author"]["member_id"] == str(author.member_id)
    assert shown["body"] == BODY["body"]
    assert shown["how_we_know"] == {"how_we_met": "coffee", "since_year": connected_year}
    assert "rating" not in json.dumps(shown)

    assert (await _act(client, subject, recommendation, "hide")).json()["status"] == "hidden"
    assert (await _shown(client, viewer, subject)).json()["items"] == []
    assert (await _act(client, subject, recommendation, "show")).json()["status"] == "approved"
    assert len((await _shown(client, viewer, subject)).json()["items"]) == 1

    types = [
        e.type
        for e in (
            await db_session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence))
        ).scalars()
    ]
    assert [t for t in types if t.startswith("recommendation.")] == [
        "recommendation.requested",
        "recommendation.approved",
        "recommendation.hidden",
        "recommendation.shown",
    ]


async def test_only_the_subject_approves_and_only_the_two_see_it(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    author, subject, recommendation = await _eligible(client, clock)
    stranger = await sign_in(client, "Eve")
    by_author = await _act(client, author, recommendation, "approve")
    assert (by_author.status_code, by_author.json()["type"].rsplit("/", 1)[1]) == (
        403,
        "not-your-recommendation",
    )
    assert (await _act(client, stranger, recommendation, "approve")).status_code == 404
    for member, status in ((author, 200), (subject, 200), (stranger, 404)):
        read = await client.get(f"/v1/recommendations/{recommendation}", headers=member.headers)
        assert read.status_code == status
    declined = await _act(client, subject, recommendation, "decline")
    assert declined.json()["status"] == "declined"
    closed = await _act(client, subject, recommendation, "approve")
    assert (closed.status_code, closed.json()["type"].rsplit("/", 1)[1]) == (
        409,
        "recommendation-closed",
    )


async def test_the_author_can_edit_and_withdraw(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    author, subject, recommendation = await _eligible(client, clock)
    viewer = await sign_in(client, "Vera Viewer")
    await _act(client, subject, recommendation, "approve")

    edited = await client.patch(
        f"/v1/recommendations/{recommendation}",
        json={"body": "Even better on a second look."},
        headers=author.headers,
    )
    assert edited.json() | {"status": "requested", "approved_at": None} == edited.json()
    assert (await _shown(client, viewer, subject)).json()["items"] == []
    by_subject = await client.patch(
        f"/v1/recommendations/{recommendation}", json=BODY, headers=subject.headers
    )
    assert by_subject.status_code == 403

    await _act(client, subject, recommendation, "approve")
    [shown] = (await _shown(client, viewer, subject)).json()["items"]
    assert shown["body"] == "Even better on a second look."

    assert (await _act(client, author, recommendation, "withdraw")).json()["status"] == "withdrawn"
    assert (await _shown(client, viewer, subject)).json()["items"] == []
    assert (await _act(client, author, recommendation, "withdraw")).status_code == 409
    assert (await _write(client, author, subject)).status_code == 201


async def test_recommendations_list_follows_the_subjects_setting_and_never_shows_a_rating(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    author, subject, recommendation = await _eligible(client, clock)
    stranger = await sign_in(client, "Eve")
    await _act(client, subject, recommendation, "approve")

    async def seen_by() -> dict[str, int]:
        return {
            name: (await _shown(client, member, subject)).status_code
            for name, member in (("subject", subject), ("author", author), ("stranger", stranger))
        }

    assert await seen_by() == {"subject": 200, "author": 200, "stranger": 200}
    await client.patch(
        "/v1/me", json={"recommendations_visible_to": "connections"}, headers=subject.headers
    )
    assert await seen_by() == {"subject": 200, "author": 200, "stranger": 403}
    hidden = await _shown(client, stranger, subject)
    assert hidden.json()["type"].endswith("/recommendations-hidden")
    await client.patch(
        "/v1/me", json={"recommendations_visible_to": "only_me"}, headers=subject.headers
    )
    assert await seen_by() == {"subject": 200, "author": 403, "stranger": 403}

    page = (await _shown(client, subject, subject)).text
    assert "rating" not in page and '"8"' not in page
    # An author who has since kept their connections to themselves no longer shows.
    await client.patch("/v1/me", json={"connections_visible_to": "only_me"}, headers=author.headers)
    assert (await _shown(client, subject, subject)).json()["items"] == []


async def test_my_recommendations_list_what_i_wrote_and_received(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    author, subject, recommendation = await _eligible(client, clock)

    async def listed(member: SignedIn, role: str) -> list[str]:
        page = await client.get(f"/v1/recommendations?role={role}", headers=member.headers)
        return [r["recommendation_id"] for r in page.json()["items"]]

    assert await listed(author, "written") == [recommendation]
    assert await listed(author, "received") == []
    assert await listed(subject, "received") == [recommendation]
    assert await listed(subject, "written") == []


DOCUMENTED_ERRORS = {
    ("/v1/members/{member_id}/recommendations", "post"): {"401", "404", "409", "422"},
    ("/v1/members/{member_id}/recommendations", "get"): {"401", "403", "404", "422"},
    ("/v1/recommendations", "get"): {"401", "422"},
    ("/v1/recommendations/{recommendation_id}", "get"): {"401", "404", "422"},
    ("/v1/recommendations/{recommendation_id}", "patch"): {"401", "403", "404", "409", "422"},
    ("/v1/recommendations/{recommendation_id}/approve", "post"): {"403", "404", "409"},
    ("/v1/blocks", "get"): {"401", "422"},
    ("/v1/blocks/{member_id}", "post"): {"401", "404", "422"},
    ("/v1/blocks/{member_id}", "delete"): {"401", "404", "422"},
    ("/v1/connections/{member_id}/note", "put"): {"401", "404", "422"},
    ("/v1/connections/{member_id}/interactions", "get"): {"401", "404", "422"},
    ("/v1/introductions/{introduction_id}/accept", "post"): {"403", "404", "409", "422"},
}


def test_new_endpoints_are_documented_with_their_errors(settings: Settings) -> None:
    paths = create_app(settings).openapi()["paths"]
    for (path, method), errors in DOCUMENTED_ERRORS.items():
        documented = set(paths[path][method]["responses"])
        assert errors <= documented, (path, method, errors - documented)
