"""Profile settings and sign-in sessions (refresh token rotation, sign-out)."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.outbox import OutboxEvent
from tests.factories import PASSWORD, register, sign_in


async def _tokens(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200
    body: dict[str, str] = response.json()
    return body


async def test_patch_me_changes_settings_and_publishes_member_updated(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    me = await sign_in(client, "Rachel")
    response = await client.patch(
        "/v1/me",
        json={
            "is_recruiter": True,
            "allows_introductions": False,
            "connections_visible_to": "only_me",
            "networking_stance": "open",
        },
        headers=me.headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["is_recruiter"], body["allows_introductions"]) == (True, False)
    assert body["connections_visible_to"] == "only_me"
    events = (
        (await db_session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence)))
        .scalars()
        .all()
    )
    updated = [e for e in events if e.type == "member.updated"]
    assert updated[-1].payload["allows_introductions"] is False


async def test_refresh_rotates_and_the_old_token_stops_working(client: httpx.AsyncClient) -> None:
    await register(client, email="rot@example.com")
    first = await _tokens(client, "rot@example.com")
    rotated = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    me = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {rotated.json()['access_token']}"}
    )
    assert me.status_code == 200


async def test_reusing_a_rotated_token_signs_out_the_whole_family(
    client: httpx.AsyncClient,
) -> None:
    await register(client, email="theft@example.com")
    first = await _tokens(client, "theft@example.com")
    second = (
        await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    after = await client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401


async def test_logout_revokes_the_refresh_token(client: httpx.AsyncClient) -> None:
    await register(client, email="bye@example.com")
    tokens = await _tokens(client, "bye@example.com")
    out = await client.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    refreshed = await client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401
