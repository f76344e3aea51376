"""Introductions: requested, forwarded or declined by the intermediary, accepted by the target."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.outbox import OutboxEvent
from tests.factories import SignedIn, connect, sign_in_all


async def _network(client: httpx.AsyncClient) -> tuple[SignedIn, SignedIn, SignedIn, SignedIn]:
    me, friend, target, stranger = await sign_in_all(client, "Me", "Friend", "Target", "Eve")
    await connect(client, me, friend)
    await connect(client, friend, target)
    return me, friend, target, stranger


async def _ask(
    client: httpx.AsyncClient, me: SignedIn, friend: SignedIn, target: SignedIn
) -> httpx.Response:
    return await client.post(
        "/v1/introductions",
        json={
            "intermediary_id": str(friend.member_id),
            "target_id": str(target.member_id),
            "note": "I'd love to learn about their work",
        },
        headers=me.headers,
    )


async def test_the_full_introduction_creates_a_confirmed_introduced_invitation(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    me, friend, target, _ = await _network(client)
    asked = await _ask(client, me, friend, target)
    assert asked.status_code == 201
    intro = asked.json()["introduction_id"]
    forwarded = await client.post(
        f"/v1/introductions/{intro}/forward",
        json={"note": "You two should meet"},
        headers=friend.headers,
    )
    assert forwarded.json()["status"] == "forwarded"
    accepted = await client.post(f"/v1/introductions/{intro}/accept", headers=target.headers)
    assert accepted.json()["status"] == "accepted"
    invitation = accepted.json()["invitation_id"]
    view = (await client.get(f"/v1/invitations/{invitation}", headers=target.headers)).json()
    assert view["introduced"] is True
    assert view["referral"] == {"referrer_id": str(friend.member_id), "status": "confirmed"}
    types = [
        e.type
        for e in (
            await db_session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence))
        ).scalars()
    ]
    assert [t for t in types if t.startswith("introduction.")] == [
        "introduction.requested",
        "introduction.forwarded",
        "introduction.accepted",
    ]


async def test_only_the_three_members_see_an_introduction(client: httpx.AsyncClient) -> None:
    me, friend, target, stranger = await _network(client)
    intro = (await _ask(client, me, friend, target)).json()["introduction_id"]
    await client.post(
        f"/v1/introductions/{intro}/forward", json={"note": "Meet!"}, headers=friend.headers
    )
    for member, status in ((me, 200), (friend, 200), (target, 200), (stranger, 404)):
        response = await client.get(f"/v1/introductions/{intro}", headers=member.headers)
        assert response.status_code == status


async def test_the_target_learns_of_it_only_once_forwarded(client: httpx.AsyncClient) -> None:
    me, friend, target, _ = await _network(client)
    intro = (await _ask(client, me, friend, target)).json()["introduction_id"]
    before = await client.get(f"/v1/introductions/{intro}", headers=target.headers)
    listed = (await client.get("/v1/introductions", headers=target.headers)).json()["items"]
    assert (before.status_code, listed) == (404, [])
    await client.post(
        f"/v1/introductions/{intro}/forward", json={"note": "Meet!"}, headers=friend.headers
    )
    after = await client.get(f"/v1/introductions/{intro}", headers=target.headers)
    assert after.status_code == 200


async def test_the_target_does_not_see_the_requesters_note(client: httpx.AsyncClient) -> None:
    me, friend, target, _ = await _network(client)
    intro = (await _ask(client, me, friend, target)).json()["introduction_id"]
    await client.post(
        f"/v1/introductions/{intro}/forward", json={"note": "Meet!"}, headers=friend.headers
    )
    view = (await client.get(f"/v1/introductions/{intro}", headers=target.headers)).json()
    assert view["note"] is None


async def test_the_target_cannot_accept_before_it_is_forwarded(client: httpx.AsyncClient) -> None:
    me, friend, target, _ = await _network(client)
    intro = (await _ask(client, me, friend, target)).json()["introduction_id"]
    early = await client.post(f"/v1/introductions/{intro}/accept", headers=target.headers)
    assert early.status_code == 404  # to the target it does not exist yet


async def test_the_intermediary_may_decline(client: httpx.AsyncClient) -> None:
    me, friend, target, _ = await _network(client)
    intro = (await _ask(client, me, friend, target)).json()["introduction_id"]
    declined = await client.post(f"/v1/introductions/{intro}/decline", headers=friend.headers)
    assert (
        declined.json() | {"status": "declined", "declined_by": "intermediary"} == declined.json()
    )


async def test_asking_through_a_non_connection_is_refused(client: httpx.AsyncClient) -> None:
    _, friend, target, stranger = await _network(client)
    response = await _ask(client, stranger, friend, target)
    assert response.status_code == 422
    assert response.json()["type"].endswith("/cannot-introduce")


async def test_an_intermediary_who_opted_out_cannot_be_asked(client: httpx.AsyncClient) -> None:
    me, friend, target, _ = await _network(client)
    await client.patch("/v1/me", json={"allows_introductions": False}, headers=friend.headers)
    response = await _ask(client, me, friend, target)
    assert response.status_code == 422


async def test_introduction_requests_answer_the_same_whether_or_not_the_intermediary_knows_a_hidden_target(  # noqa: E501
    client: httpx.AsyncClient,
) -> None:
    me, friend, knows, unknown = await sign_in_all(client, "Me", "Friend", "Target", "Target")
    await connect(client, me, friend)
    await connect(client, friend, knows)
    answers = []
    for target in (knows, unknown):
        await client.patch("/v1/me", json={"reachable_by": "nobody"}, headers=target.headers)
        response = await _ask(client, me, friend, target)
        body = response.json()
        answers.append((response.status_code, body["type"], body["detail"]))

    assert answers[0] == answers[1]
    assert answers[0][0] == 422


async def _forwarded(
    client: httpx.AsyncClient, me: SignedIn, friend: SignedIn, target: SignedIn
) -> str:
    intro = (await _ask(client, me, friend, target)).json()["introduction_id"]
    forwarded = await client.post(
        f"/v1/introductions/{intro}/forward", json={"note": "Meet!"}, headers=friend.headers
    )
    assert forwarded.status_code == 200, forwarded.text
    return str(intro)


async def test_an_accepted_introduction_connects_once_the_target_rates(
    client: httpx.AsyncClient,
) -> None:
    me, friend, target, _ = await _network(client)
    intro = await _forwarded(client, me, friend, target)
    accepted = await client.post(f"/v1/introductions/{intro}/accept", headers=target.headers)
    invitation = accepted.json()["invitation_id"]
    view = (await client.get(f"/v1/invitations/{invitation}", headers=target.headers)).json()
    assert view["status"] == "pending"
    assert view["suggestion"] | {"rule": "introduction", "matched": True} == view["suggestion"]
    assert view["suggestion"]["action"] == {"type": "accept"}
    rated = await client.post(
        f"/v1/invitations/{invitation}/accept", json={"rating": 7}, headers=target.headers
    )
    assert rated.status_code == 200, rated.text
    mine = (await client.get(f"/v1/connections/{me.member_id}", headers=target.headers)).json()
    assert mine["my_rating"] == 7


async def test_accepting_an_introduction_with_a_rating_connects_at_once(
    client: httpx.AsyncClient,
) -> None:
    me, friend, target, _ = await _network(client)
    intro = await _forwarded(client, me, friend, target)
    accepted = await client.post(
        f"/v1/introductions/{intro}/accept", json={"rating": 9}, headers=target.headers
    )
    assert accepted.status_code == 200, accepted.text
    invitation = accepted.json()["invitation_id"]
    view = (await client.get(f"/v1/invitations/{invitation}", headers=target.headers)).json()
    assert view["status"] == "accepted"
    mine = (await client.get(f"/v1/connections/{target.member_id}", headers=me.headers)).json()
    assert (mine["how_we_met"], mine["my_rating"]) == ("never_met", None)
    bad = await client.post(
        f"/v1/introductions/{intro}/accept", json={"rating": 11}, headers=target.headers
    )
    assert bad.status_code == 422


async def test_the_targets_policy_does_not_decline_an_introduction_they_accepted(
    client: httpx.AsyncClient,
) -> None:
    me, friend, target, _ = await _network(client)
    declines_everything = {
        "rules": [],
        "otherwise": {"type": "decline", "note_template": "No, thanks."},
        "otherwise_automatic": True,
    }
    stored = await client.put(
        "/v1/me/policy", json=declines_everything, headers={**target.headers, "If-Match": '"0"'}
    )
    assert stored.status_code == 200, stored.text
    intro = await _forwarded(client, me, friend, target)
    accepted = await client.post(f"/v1/introductions/{intro}/accept", headers=target.headers)
    invitation = accepted.json()["invitation_id"]
    view = (await client.get(f"/v1/invitations/{invitation}", headers=target.headers)).json()
    assert view["status"] == "pending"
    assert view["suggestion"]["rule"] == "introduction"
    assert view["suggestion"]["reasons"] == ["you accepted the introduction from Friend"]
