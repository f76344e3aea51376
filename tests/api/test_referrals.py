"""Name-dropped referrals are checked and confirmed by the referrer."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.outbox import OutboxEvent
from tests.factories import connect, invitation_id, sign_in_all


async def _referral_view(
    client: httpx.AsyncClient, invitation: str, headers: dict[str, str]
) -> str:
    view = (await client.get(f"/v1/invitations/{invitation}", headers=headers)).json()
    return str(view["referral"]["status"])


async def test_a_referrer_who_knows_neither_is_a_false_claim(client: httpx.AsyncClient) -> None:
    ada, bob, alice = await sign_in_all(client, "Ada", "Bob", "Alice")
    sent = await invitation_id(client, ada, bob, referred_by_member_id=str(alice.member_id))
    assert await _referral_view(client, sent, bob.headers) == "false_claim"


async def test_a_referrer_who_knows_only_the_invitee_is_asked_to_confirm(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    """Only the referrer-invitee link decides a false claim: the invitee, who sees the
    status, is an end of it. The referrer-inviter link is the referrer's to answer for."""
    ada, bob, alice = await sign_in_all(client, "Ada", "Bob", "Alice")
    await connect(client, alice, bob)
    sent = await invitation_id(client, ada, bob, referred_by_member_id=str(alice.member_id))
    assert await _referral_view(client, sent, bob.headers) == "unverified"
    types = [
        e.type
        for e in (
            await db_session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence))
        ).scalars()
    ]
    assert "referral.requested" in types


async def test_a_referrer_who_knows_only_the_inviter_is_a_false_claim(
    client: httpx.AsyncClient,
) -> None:
    ada, bob, alice = await sign_in_all(client, "Ada", "Bob", "Alice")
    await connect(client, alice, ada)
    sent = await invitation_id(client, ada, bob, referred_by_member_id=str(alice.member_id))
    assert await _referral_view(client, sent, bob.headers) == "false_claim"


async def test_a_referrer_who_knows_both_is_asked_and_can_confirm(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob, alice = await sign_in_all(client, "Ada", "Bob", "Alice")
    await connect(client, alice, ada)
    await connect(client, alice, bob)
    sent = await invitation_id(client, ada, bob, referred_by_member_id=str(alice.member_id))
    assert await _referral_view(client, sent, bob.headers) == "unverified"
    response = await client.post(
        f"/v1/invitations/{sent}/referral", json={"confirm": True}, headers=alice.headers
    )
    assert response.status_code == 204
    assert await _referral_view(client, sent, bob.headers) == "confirmed"
    types = [
        e.type
        for e in (
            await db_session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence))
        ).scalars()
    ]
    assert "referral.requested" in types and "referral.confirmed" in types


async def test_a_denied_referral_shows_as_denied(client: httpx.AsyncClient) -> None:
    ada, bob, alice = await sign_in_all(client, "Ada", "Bob", "Alice")
    await connect(client, alice, ada)
    await connect(client, alice, bob)
    sent = await invitation_id(client, ada, bob, referred_by_member_id=str(alice.member_id))
    await client.post(
        f"/v1/invitations/{sent}/referral", json={"confirm": False}, headers=alice.headers
    )
    assert await _referral_view(client, sent, bob.headers) == "denied"


async def test_only_the_named_referrer_can_settle_it(client: httpx.AsyncClient) -> None:
    ada, bob, alice = await sign_in_all(client, "Ada", "Bob", "Alice")
    await connect(client, alice, ada)
    await connect(client, alice, bob)
    sent = await invitation_id(client, ada, bob, referred_by_member_id=str(alice.member_id))
    response = await client.post(
        f"/v1/invitations/{sent}/referral", json={"confirm": True}, headers=ada.headers
    )
    assert response.status_code == 404
