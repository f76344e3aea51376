"""Sending invitations and every reply to them."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.connections import Connection
from rapport_common.models.invitations import Invitation
from rapport_common.outbox import OutboxEvent
from tests.conftest import SteppingClock
from tests.factories import connect, invitation_id, invite, sign_in


async def _events(session: AsyncSession, prefix: str = "") -> list[OutboxEvent]:
    rows = await session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence))
    return [e for e in rows.scalars() if e.type.startswith(prefix)]


async def test_send_returns_201_with_id_and_pending_status(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    response = await invite(client, ada, bob)
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert "RateLimit" in response.headers and "RateLimit-Policy" in response.headers


async def test_send_records_invitation_sent_in_the_outbox(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob)
    [event] = await _events(db_session, "invitation.")
    assert event.type == "invitation.sent"
    assert event.payload["invitation_id"] == sent


async def test_invitee_sees_the_policy_suggestion_with_reasons(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob, how_we_met="beer")
    view = (await client.get(f"/v1/invitations/{sent}", headers=bob.headers)).json()
    assert view["suggestion"]["action"]["type"] == "accept"
    assert view["suggestion"]["rule"] == "Met in person"
    assert "you had a beer together" in view["suggestion"]["reasons"]
    inviter_view = (await client.get(f"/v1/invitations/{sent}", headers=ada.headers)).json()
    assert inviter_view["suggestion"] is None and inviter_view["referral"] is None


async def test_accept_creates_the_connection_with_both_ratings(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob, my_rating=9)
    response = await client.post(
        f"/v1/invitations/{sent}/accept", json={"rating": 6}, headers=bob.headers
    )
    assert response.json()["status"] == "accepted"
    connection = (await db_session.execute(select(Connection))).scalar_one()
    assert connection.rating_by(ada.member_id) == 9
    assert connection.rating_by(bob.member_id) == 6
    types = [e.type for e in await _events(db_session)]
    assert types[-2:] == ["invitation.accepted", "connection.created"]


async def test_inviter_cannot_accept_their_own_invitation(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob)
    response = await client.post(
        f"/v1/invitations/{sent}/accept", json={"rating": 6}, headers=ada.headers
    )
    assert response.status_code == 403
    assert response.json()["type"].endswith("/not-your-move")


async def test_decline_without_a_note_sends_the_policy_template_to_the_outbox(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada Lovelace"), await sign_in(client, "Bob Builder")
    sent = await invitation_id(client, ada, bob, how_we_met="never_met")
    response = await client.post(f"/v1/invitations/{sent}/decline", headers=bob.headers)
    assert response.json()["status"] == "declined"
    [event] = await _events(db_session, "invitation.declined")
    assert event.payload["note"].startswith("Hi Ada, thank you for the invitation.")
    assert event.payload["note"].endswith("Best, Bob")
    assert event.payload["inviter_id"] == str(ada.member_id)


async def test_decline_with_my_own_note_sends_my_words(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob)
    await client.post(
        f"/v1/invitations/{sent}/decline",
        json={"note": "Let's grab lunch first."},
        headers=bob.headers,
    )
    [event] = await _events(db_session, "invitation.declined")
    assert event.payload["note"] == "Let's grab lunch first."


async def test_declining_twice_is_a_409(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob)
    await client.post(f"/v1/invitations/{sent}/decline", headers=bob.headers)
    again = await client.post(f"/v1/invitations/{sent}/decline", headers=bob.headers)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/invitation-closed")


async def test_later_moves_it_to_the_later_box_until_its_date(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob)
    await client.post(f"/v1/invitations/{sent}/later", json={"days": 3}, headers=bob.headers)

    async def box(name: str) -> list[str]:
        page = await client.get(f"/v1/invitations?box={name}", headers=bob.headers)
        return [item["invitation_id"] for item in page.json()["items"]]

    assert (await box("later"), await box("received")) == ([sent], [])
    clock.advance(days=3, seconds=1)
    assert (await box("later"), await box("received")) == ([], [sent])


async def test_ask_then_answer_returns_it_to_the_invitee(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob, how_we_met="never_met")
    asked = await client.post(
        f"/v1/invitations/{sent}/ask", json={"question": "Where did we meet?"}, headers=bob.headers
    )
    assert asked.json()["status"] == "awaiting_answer"
    answered = await client.post(
        f"/v1/invitations/{sent}/answer", json={"answer": "PyCon 2025"}, headers=ada.headers
    )
    assert answered.json()["status"] == "pending"
    assert answered.json()["answer"] == "PyCon 2025"
    types = [e.type for e in await _events(db_session, "invitation.")]
    assert types == ["invitation.sent", "invitation.question_asked", "invitation.answered"]


async def test_unanswered_question_expires_after_the_configured_time(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob)
    await client.post(
        f"/v1/invitations/{sent}/ask", json={"question": "Who are you?"}, headers=bob.headers
    )
    clock.advance(days=14, seconds=1)
    late = await client.post(
        f"/v1/invitations/{sent}/answer", json={"answer": "Too late"}, headers=ada.headers
    )
    assert late.status_code == 409
    view = await client.get(f"/v1/invitations/{sent}", headers=ada.headers)
    assert view.json()["status"] == "expired"


async def test_withdrawn_invitee_cannot_be_invited_again_for_21_days(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob)
    await client.post(f"/v1/invitations/{sent}/withdraw", headers=ada.headers)
    clock.advance(days=20)
    blocked = await invite(client, ada, bob)
    assert blocked.status_code == 409
    assert blocked.json()["type"].endswith("/reinvite-blocked")
    assert int(blocked.headers["retry-after"]) > 0
    clock.advance(days=1, seconds=1)
    assert (await invite(client, ada, bob)).status_code == 201


async def test_report_closes_it_without_a_note(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob)
    response = await client.post(
        f"/v1/invitations/{sent}/report", json={"reason": "spam"}, headers=bob.headers
    )
    assert response.json()["status"] == "declined"
    assert await _events(db_session, "invitation.declined") == []
    [reported] = await _events(db_session, "invitation.reported")
    assert reported.payload["reason"] == "spam"


async def test_inviting_a_connection_is_a_409(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    await connect(client, ada, bob)
    response = await invite(client, bob, ada)
    assert response.status_code == 409
    assert response.json()["type"].endswith("/already-connected")


async def test_a_second_open_invitation_between_two_members_is_a_409(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    first = await invitation_id(client, ada, bob)
    reverse = await invite(client, bob, ada)
    assert reverse.status_code == 409
    assert reverse.json()["invitation_id"] == first


async def test_inviting_myself_is_a_422(client: httpx.AsyncClient) -> None:
    ada = await sign_in(client, "Ada")
    response = await invite(client, ada, ada)
    assert response.status_code == 422
    assert response.json()["type"].endswith("/cannot-invite")


async def test_automatic_decline_rule_declines_at_once(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    policy = (await client.get("/v1/me/policy", headers=bob.headers)).json()
    body = {"rules": policy["rules"], "otherwise": policy["otherwise"], "otherwise_automatic": True}
    put = await client.put("/v1/me/policy", json=body, headers={**bob.headers, "If-Match": '"0"'})
    assert put.status_code == 200
    response = await invite(client, ada, bob, how_we_met="never_met")
    assert response.json()["status"] == "declined"
    [event] = await _events(db_session, "invitation.declined")
    assert event.payload["automatic"] is True


async def test_received_box_pages_with_an_opaque_cursor(client: httpx.AsyncClient) -> None:
    bob = await sign_in(client, "Bob")
    inviters = [await sign_in(client, f"Inviter {n}") for n in range(5)]
    sent = [await invitation_id(client, inviter, bob) for inviter in inviters]
    seen: list[str] = []
    cursor = None
    while True:
        query = "/v1/invitations?box=received&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=bob.headers)).json()
        seen += [item["invitation_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(sent))


async def test_a_forged_cursor_is_a_400_problem(client: httpx.AsyncClient) -> None:
    bob = await sign_in(client, "Bob")
    response = await client.get("/v1/invitations?cursor=bm90LWEtY3Vyc29y", headers=bob.headers)
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-cursor")


async def test_limit_over_100_is_a_422(client: httpx.AsyncClient) -> None:
    bob = await sign_in(client, "Bob")
    response = await client.get("/v1/invitations?limit=101", headers=bob.headers)
    assert response.status_code == 422


async def test_an_automatic_accept_when_sent_keeps_the_events_in_the_order_they_happened(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    """A send's rows and events are written by one statement, an accept's by another,
    with the referral's event, recorded in between, flushed before the accept's."""
    ada, bob, cy = (
        await sign_in(client, "Ada"),
        await sign_in(client, "Bob"),
        await sign_in(client, "Cy"),
    )
    policy = {"rules": [], "otherwise": {"type": "accept"}, "otherwise_automatic": True}
    response = await client.put(
        "/v1/me/policy", json=policy, headers={**bob.headers, "If-Match": '"0"'}
    )
    assert response.status_code == 200, response.text
    response = await invite(client, ada, bob, referred_by_member_id=str(cy.member_id))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "accepted"
    types = [event.type for event in await _events(db_session)]
    assert types[-4:] == [
        "invitation.sent",
        "referral.false_claim",
        "invitation.accepted",
        "connection.created",
    ]
    invitation = (await db_session.execute(select(Invitation))).scalar_one()
    assert invitation.status == "accepted" and invitation.closed_at is not None
    assert invitation.suggestion is not None and invitation.suggestion["automatic"] is True
    connection = (await db_session.execute(select(Connection))).scalar_one()
    assert connection.invitation_id == invitation.id
    assert connection.rating_by(bob.member_id) is None
