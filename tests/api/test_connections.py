"""My connections: ratings stay private, fade with time and recover with interactions."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.outbox import OutboxEvent
from tests.conftest import SteppingClock
from tests.factories import connect, sign_in, sign_in_all


async def test_my_connections_show_my_rating_only(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob, a_rates=9, b_rates=3)
    mine = (await client.get("/v1/connections", headers=ada.headers)).json()["items"]
    theirs = (await client.get("/v1/connections", headers=bob.headers)).json()["items"]
    assert [(c["name"], c["my_rating"]) for c in mine] == [("Bob", 9)]
    assert [(c["name"], c["my_rating"]) for c in theirs] == [("Ada", 3)]


async def test_effective_rating_halves_its_distance_to_1_after_one_half_life(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob, a_rates=9)
    clock.advance(days=180)
    view = (await client.get(f"/v1/connections/{bob.member_id}", headers=ada.headers)).json()
    assert view["my_effective_rating"] == pytest.approx(5.0, abs=0.01)


async def test_an_interaction_refreshes_the_effective_rating(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob, a_rates=9)
    clock.advance(days=360)
    logged = await client.post(
        f"/v1/connections/{bob.member_id}/interactions",
        json={"kind": "coffee", "occurred_at": clock.now.isoformat()},
        headers=ada.headers,
    )
    assert logged.status_code == 201
    view = (await client.get(f"/v1/connections/{bob.member_id}", headers=ada.headers)).json()
    assert view["my_effective_rating"] == pytest.approx(9.0, abs=0.01)


async def test_an_interaction_in_the_future_is_refused(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob)
    response = await client.post(
        f"/v1/connections/{bob.member_id}/interactions",
        json={"kind": "beer", "occurred_at": (clock.now + timedelta(days=1)).isoformat()},
        headers=ada.headers,
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/invalid-interaction")


async def test_rerating_my_side_publishes_connection_rated(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob, a_rates=4)
    response = await client.patch(
        f"/v1/connections/{bob.member_id}", json={"rating": 7}, headers=ada.headers
    )
    assert response.json()["my_rating"] == 7
    events = (
        (await db_session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence)))
        .scalars()
        .all()
    )
    rated = [e.payload for e in events if e.type == "connection.rated"]
    assert rated == [{"rater_id": str(ada.member_id), "ratee_id": str(bob.member_id), "rating": 7}]


async def test_removing_a_connection_lets_them_invite_again(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob)
    assert (
        await client.delete(f"/v1/connections/{bob.member_id}", headers=ada.headers)
    ).status_code == 204
    assert (
        await client.get(f"/v1/connections/{bob.member_id}", headers=ada.headers)
    ).status_code == 404
    again = await client.post(
        "/v1/invitations",
        json={"to_member_id": str(ada.member_id), "note": "Again?", "how_we_met": "meal"},
        headers=bob.headers,
    )
    assert again.status_code == 201


async def test_a_stranger_cannot_rate_or_remove_my_connection(client: httpx.AsyncClient) -> None:
    ada, bob, eve = await sign_in_all(client, "Ada", "Bob", "Eve")
    await connect(client, ada, bob)
    rate = await client.patch(
        f"/v1/connections/{bob.member_id}", json={"rating": 1}, headers=eve.headers
    )
    remove = await client.delete(f"/v1/connections/{ada.member_id}", headers=eve.headers)
    assert (rate.status_code, remove.status_code) == (404, 404)


@pytest.mark.parametrize(
    ("visibility", "stranger_sees", "connection_sees"),
    [("everyone", 200, 200), ("connections", 403, 200), ("only_me", 403, 403)],
)
async def test_member_connections_follow_their_visibility_setting(
    client: httpx.AsyncClient, visibility: str, stranger_sees: int, connection_sees: int
) -> None:
    ada, bob, eve = await sign_in_all(client, "Ada", "Bob", "Eve")
    await connect(client, ada, bob)
    await client.patch("/v1/me", json={"connections_visible_to": visibility}, headers=ada.headers)
    path = f"/v1/members/{ada.member_id}/connections"
    assert (await client.get(path, headers=eve.headers)).status_code == stranger_sees
    assert (await client.get(path, headers=bob.headers)).status_code == connection_sees
    assert (await client.get(path, headers=ada.headers)).status_code == 200


async def test_my_connection_list_pages_by_name(client: httpx.AsyncClient) -> None:
    me = await sign_in(client, "Me")
    friends = [await sign_in(client, name) for name in ("Cy", "Al", "Bo")]
    for friend in friends:
        await connect(client, me, friend)
    first = (await client.get("/v1/connections?limit=2", headers=me.headers)).json()
    second = (
        await client.get(
            f"/v1/connections?limit=2&cursor={first['next_cursor']}", headers=me.headers
        )
    ).json()
    assert [c["name"] for c in first["items"] + second["items"]] == ["Al", "Bo", "Cy"]
    assert second["next_cursor"] is None
