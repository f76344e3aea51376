"""Anti-spam: weekly limit, pending cap, throttling."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.settings import Settings
from services.api.invitations.repository import InvitationRepository
from tests.conftest import SteppingClock
from tests.factories import SignedIn, invitation_id, invite, sign_in


@pytest.fixture
def small_limits(api_app: FastAPI, settings: Settings) -> None:
    limits = settings.invitations.model_copy(
        update={
            "weekly_limit": 3,
            "pending_cap": 4,
            "throttle_min_decided": 4,
            "throttled_weekly_limit": 1,
        }
    )
    api_app.state.settings = settings.model_copy(update={"invitations": limits})


async def _members(client: httpx.AsyncClient, count: int) -> list[SignedIn]:
    return [await sign_in(client, f"Member {n}") for n in range(count)]


@pytest.mark.usefixtures("small_limits")
async def test_weekly_limit_answers_429_with_retry_after_and_ratelimit_fields(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, *others = await _members(client, 5)
    for other in others[:3]:
        assert (await invite(client, ada, other)).status_code == 201
        clock.advance(hours=1)
    over = await invite(client, ada, others[3])
    assert over.status_code == 429
    assert over.json()["type"].endswith("/invitation-limit")
    retry = int(over.headers["retry-after"])
    assert 7 * 86400 - 3 * 3600 < retry <= 7 * 86400 - 3 * 3600 + 2
    assert over.headers["ratelimit-policy"] == '"weekly";q=3;w=604800'
    assert over.headers["ratelimit"].startswith('"weekly";r=0;')
    clock.advance(seconds=retry)
    assert (await invite(client, ada, others[3])).status_code == 201


@pytest.mark.usefixtures("small_limits")
async def test_pending_cap_counts_open_invitations_across_weeks(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, *others = await _members(client, 6)
    for other in others[:4]:
        await invitation_id(client, ada, other)
        clock.advance(days=3)
    over = await invite(client, ada, others[4])
    assert over.status_code == 429
    assert "waiting for an answer" in over.json()["detail"]


@pytest.mark.usefixtures("small_limits")
async def test_mostly_declined_inviters_are_throttled(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    spammer, *others = await _members(client, 7)
    for other in others[:4]:
        sent = await invitation_id(client, spammer, other)
        await client.post(
            f"/v1/invitations/{sent}/report", json={"reason": "spam"}, headers=other.headers
        )
        clock.advance(days=3)  # stay under the weekly limit of 3
    clock.advance(days=8)  # a fresh week: only the throttle limits now
    assert (await invite(client, spammer, others[4])).status_code == 201
    throttled = await invite(client, spammer, others[5])
    assert throttled.status_code == 429
    assert throttled.json()["throttled"] is True


async def test_a_send_in_progress_does_not_block_sends_to_its_sender(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    # Two crossing sends (Ada->Bob while Bob->Ada' or Cy->Ada) deadlocked when a send's
    # lock on its inviter's row conflicted with the other insert's foreign-key check.
    ada, bob = await sign_in(committed_client, "Ada"), await sign_in(committed_client, "Bob")
    async with committed_db() as ada_sending:
        await InvitationRepository(ada_sending).lock_inviter(ada.member_id)
        to_ada = committed_client.post(
            "/v1/invitations",
            json={"to_member_id": str(ada.member_id), "note": "Hi", "how_we_met": "coffee"},
            headers=bob.headers,
        )
        response = await asyncio.wait_for(to_ada, timeout=10)
        await ada_sending.rollback()
    assert response.status_code == 201, response.text
