"""Scheduled jobs under a controllable clock: reminders, expiry, reconnect nudges."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.invitations import Invitation
from services.notifier.notifications import crons
from tests.factories import SignedIn, connect, invitation_id, sign_in_all
from tests.notifier.conftest import Mailbox


async def _strong_but_faded(client: httpx.AsyncClient) -> tuple[SignedIn, SignedIn]:
    """Ada rates Bob 9 (nudge-worthy), Bob rates Ada 5 (never nudged)."""
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob, a_rates=9, b_rates=5)
    return ada, bob


def _nudges(mailbox: Mailbox, member: SignedIn) -> int:
    return len([m for m in mailbox.messages_to(member.email) if "Reconnect" in str(m["Subject"])])


async def test_a_deferred_invitation_comes_back_once_on_its_date(
    committed_client: httpx.AsyncClient,
    worker_ctx: dict[str, Any],
    mailbox: Mailbox,
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    sent = await invitation_id(committed_client, ada, bob)
    await committed_client.post(
        f"/v1/invitations/{sent}/later", json={"days": 2}, headers=bob.headers
    )
    assert await crons.return_deferred_invitations(worker_ctx) == 0
    worker_ctx["clock"].advance(days=2, minutes=1)
    assert await crons.return_deferred_invitations(worker_ctx) == 1
    await crons.return_deferred_invitations(worker_ctx)
    backs = [m for m in mailbox.messages_to(bob.email) if "Time to decide" in str(m["Subject"])]
    assert len(backs) == 1


async def test_an_unanswered_question_is_expired_by_the_sweep(
    committed_client: httpx.AsyncClient,
    worker_ctx: dict[str, Any],
    committed_db: async_sessionmaker[AsyncSession],
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    sent = await invitation_id(committed_client, ada, bob)
    await committed_client.post(
        f"/v1/invitations/{sent}/ask", json={"question": "Who?"}, headers=bob.headers
    )
    worker_ctx["clock"].advance(days=15)
    assert await crons.expire_questions(worker_ctx) == 1
    async with committed_db() as session:
        invitation = await session.get(Invitation, uuid.UUID(sent))
    assert invitation is not None and invitation.status == "expired"


async def test_a_faded_strong_relationship_is_nudged_at_most_once_per_30_days(
    committed_client: httpx.AsyncClient, worker_ctx: dict[str, Any], mailbox: Mailbox
) -> None:
    ada, bob = await _strong_but_faded(committed_client)
    clock = worker_ctx["clock"]
    clock.advance(days=30)
    assert await crons.send_nudges(worker_ctx) == 0  # not faded enough yet
    clock.advance(days=170)
    assert await crons.send_nudges(worker_ctx) == 1
    assert await crons.send_nudges(worker_ctx) == 0
    clock.advance(days=29)
    assert await crons.send_nudges(worker_ctx) == 0
    clock.advance(days=2)
    assert await crons.send_nudges(worker_ctx) == 1
    assert (_nudges(mailbox, ada), _nudges(mailbox, bob)) == (2, 0)
    feed = await committed_client.get("/v1/notifications", headers=ada.headers)
    assert [item["data"] for item in feed.json()["items"] if item["kind"] == "nudge"] == [
        {"member_id": str(bob.member_id), "suggested_actions": ["coffee", "meal", "call"]}
    ] * 2


async def test_no_nudge_in_quiet_hours_of_the_members_time_zone(
    committed_client: httpx.AsyncClient, worker_ctx: dict[str, Any], mailbox: Mailbox
) -> None:
    ada, _ = await _strong_but_faded(committed_client)
    await committed_client.put(
        "/v1/me/nudges",
        json={"quiet_start": "21:00", "quiet_end": "08:00", "time_zone": "Europe/Paris"},
        headers=ada.headers,
    )
    clock = worker_ctx["clock"]
    clock.now = datetime(2027, 7, 1, 21, 30, tzinfo=UTC)  # 23:30 in Paris
    assert await crons.send_nudges(worker_ctx) == 0
    clock.now = datetime(2027, 7, 2, 7, 30, tzinfo=UTC)  # 09:30 in Paris
    assert await crons.send_nudges(worker_ctx) == 1
    assert _nudges(mailbox, ada) == 1


async def test_no_nudge_when_the_member_turned_them_off(
    committed_client: httpx.AsyncClient, worker_ctx: dict[str, Any]
) -> None:
    ada, _ = await _strong_but_faded(committed_client)
    await committed_client.put("/v1/me/nudges", json={"enabled": False}, headers=ada.headers)
    worker_ctx["clock"].advance(days=300)
    assert await crons.send_nudges(worker_ctx) == 0


async def test_a_higher_fade_threshold_waits_longer(
    committed_client: httpx.AsyncClient, worker_ctx: dict[str, Any]
) -> None:
    ada, _ = await _strong_but_faded(committed_client)
    await committed_client.put("/v1/me/nudges", json={"min_fade": 5}, headers=ada.headers)
    worker_ctx["clock"].advance(days=200)  # faded by about 4.3
    assert await crons.send_nudges(worker_ctx) == 0
    worker_ctx["clock"].advance(days=150)  # about 5.8
    assert await crons.send_nudges(worker_ctx) == 1
