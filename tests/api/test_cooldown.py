"""After a decline, the same sender cannot invite the same member again for the period
the decliner chose: 90 days by default, 1 to 3650 days, or never."""

from datetime import datetime, timedelta

import httpx
import pytest

from tests.conftest import SteppingClock
from tests.factories import SignedIn, invitation_id, invite, sign_in


async def _declined(
    client: httpx.AsyncClient, ada: SignedIn, bob: SignedIn, how: str = "decline"
) -> None:
    sent = await invitation_id(client, ada, bob)
    body = {"reason": "spam"} if how == "report" else None
    response = await client.post(f"/v1/invitations/{sent}/{how}", json=body, headers=bob.headers)
    assert response.status_code == 200, response.text


def _refused_until(response: httpx.Response) -> datetime | None:
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"].endswith("/declined-recently")
    until = problem["blocked_until"]
    return None if until is None else datetime.fromisoformat(until)


@pytest.mark.parametrize("how", ["decline", "report"])
async def test_a_decliner_is_not_reinvited_by_the_same_sender_for_90_days_by_default(
    client: httpx.AsyncClient, clock: SteppingClock, how: str
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob Builder")
    await _declined(client, ada, bob, how)
    declined_at = clock()
    clock.advance(days=89)
    again = await invite(client, ada, bob)
    assert _refused_until(again) == declined_at + timedelta(days=90)
    assert int(again.headers["retry-after"]) == 86400 + 1
    assert "Bob Builder declined" in again.json()["detail"]
    clock.advance(days=1)
    assert (await invite(client, ada, bob)).status_code == 201


async def test_the_decliners_own_period_applies_as_set_now(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    await _declined(client, ada, bob)
    declined_at = clock()
    me = await client.patch("/v1/me", json={"decline_cooldown_days": 30}, headers=bob.headers)
    assert me.status_code == 200 and me.json()["decline_cooldown_days"] == 30
    assert _refused_until(await invite(client, ada, bob)) == declined_at + timedelta(days=30)
    clock.advance(days=30)
    assert (await invite(client, ada, bob)).status_code == 201


async def test_a_decliner_may_choose_never(client: httpx.AsyncClient, clock: SteppingClock) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    never = await client.patch("/v1/me", json={"decline_cooldown_days": None}, headers=bob.headers)
    assert never.status_code == 200 and never.json()["decline_cooldown_days"] is None
    await _declined(client, ada, bob)
    clock.advance(days=3650 * 2)
    again = await invite(client, ada, bob)
    assert _refused_until(again) is None
    assert "retry-after" not in again.headers
    assert "chose not to be invited again" in again.json()["detail"]


async def test_the_cool_down_binds_only_the_declined_sender(
    client: httpx.AsyncClient,
) -> None:
    ada, bob, carol = [await sign_in(client, name) for name in ("Ada", "Bob", "Carol")]
    await _declined(client, ada, bob)
    assert (await invite(client, carol, bob)).status_code == 201
    assert (await invite(client, bob, ada)).status_code == 201


@pytest.mark.parametrize("days", [0, -1, 3651])
async def test_the_period_is_1_to_3650_days(client: httpx.AsyncClient, days: object) -> None:
    bob = await sign_in(client, "Bob")
    response = await client.patch(
        "/v1/me", json={"decline_cooldown_days": days}, headers=bob.headers
    )
    assert response.status_code == 422


async def test_the_card_shows_the_cool_down_as_sending_answers_it(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    await _declined(client, ada, bob)
    card = (await client.get(f"/v1/members/{bob.member_id}/card", headers=ada.headers)).json()
    assert card["invitation"]["state"] == "declined_recently"
    refused_until = _refused_until(await invite(client, ada, bob))
    assert refused_until is not None
    assert datetime.fromisoformat(card["invitation"]["possible_from"]) == refused_until
