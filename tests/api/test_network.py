"""The network through the public API: paths, mutuals, degree and health, with the real
graph service and Neo4j behind it. Events reach the graph as the notifier would hand
them on (``project_outbox``)."""

import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import SteppingClock, project_outbox
from tests.factories import SignedIn, connect, sign_in_all

pytestmark = pytest.mark.usefixtures("api_graph")


async def _line(client: httpx.AsyncClient) -> list[SignedIn]:
    """me - friend - their friend - target, plus a second, weaker route through 'weak'."""
    me, friend, fof, target, weak = await sign_in_all(
        client, "Me", "Friend", "Fof", "Target", "Weak"
    )
    await connect(client, me, friend, 9, 9)
    await connect(client, friend, fof, 8, 8)
    await connect(client, fof, target, 9, 9)
    await connect(client, me, weak, 3, 3)
    await connect(client, weak, target, 3, 3)
    return [me, friend, fof, target, weak]


async def test_paths_rank_the_strong_route_first_and_show_only_bands(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    me, friend, fof, target, weak = await _line(client)
    await project_outbox(db_session, api_graph)
    response = await client.get(f"/v1/members/{target.member_id}/paths", headers=me.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["degree"] == 2
    routes = [[i["member_id"] for i in path["intermediaries"]] for path in body["items"]]
    assert routes == [[str(friend.member_id), str(fof.member_id)], [str(weak.member_id)]]
    assert "score" not in json.dumps(body)
    assert [link["band"] for link in body["items"][0]["links"]] == ["strong"] * 3
    assert "rating" not in json.dumps(body) and "strength" not in json.dumps(body)


async def test_members_who_opted_out_are_never_intermediaries(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    me, friend, _, target, weak = await _line(client)
    await client.patch("/v1/me", json={"allows_introductions": False}, headers=friend.headers)
    await project_outbox(db_session, api_graph)
    body = (await client.get(f"/v1/members/{target.member_id}/paths", headers=me.headers)).json()
    intermediaries = {i["member_id"] for p in body["items"] for i in p["intermediaries"]}
    assert intermediaries == {str(weak.member_id)}


async def test_mutuals_put_the_one_who_knows_them_best_first(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    me, close, distant, target = await sign_in_all(client, "Me", "Close", "Distant", "Target")
    for mutual, rating in ((distant, 3), (close, 9)):
        await connect(client, me, mutual, 8, 8)
        await connect(client, mutual, target, rating, rating)
    await project_outbox(db_session, api_graph)
    body = (await client.get(f"/v1/members/{target.member_id}/mutuals", headers=me.headers)).json()
    assert [(m["name"], m["band_with_them"]) for m in body["items"]] == [
        ("Close", "strong"),
        ("Distant", "weak"),
    ]


async def test_degree_counts_hops_up_to_three(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    me, friend, fof, target, _ = await _line(client)
    stranger, *_ = await sign_in_all(client, "Stranger")
    await project_outbox(db_session, api_graph)

    async def degree(member: SignedIn) -> int | None:
        response = await client.get(f"/v1/members/{member.member_id}/degree", headers=me.headers)
        value: int | None = response.json()["degree"]
        return value

    assert [await degree(m) for m in (friend, fof, target, stranger)] == [1, 2, 2, None]


async def test_paths_to_myself_are_a_422_and_to_nobody_a_404(client: httpx.AsyncClient) -> None:
    (me,) = await sign_in_all(client, "Me")
    mine = await client.get(f"/v1/members/{me.member_id}/paths", headers=me.headers)
    nobody = await client.get(
        "/v1/members/00000000-0000-0000-0000-000000000000/paths", headers=me.headers
    )
    assert (mine.status_code, nobody.status_code) == (422, 404)


async def test_network_health_lists_fading_connections_by_name(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    api_graph: httpx.AsyncClient,
    clock: SteppingClock,
) -> None:
    me, old_friend = await sign_in_all(client, "Me", "Old Friend")
    await connect(client, me, old_friend, 9, 9)
    await project_outbox(db_session, api_graph)
    clock.advance(days=365)
    body = (await client.get("/v1/me/network/health", headers=me.headers)).json()
    assert body["total"] == 1
    assert [f["name"] for f in body["fading"]["items"]] == ["Old Friend"]
    assert body["by_how_we_met"]["coffee"] == 1


async def test_the_graph_being_down_is_a_503_with_retry_after(
    client: httpx.AsyncClient, api_graph: httpx.AsyncClient, api_app: FastAPI
) -> None:
    me, target = await sign_in_all(client, "Me", "Target")
    app_state = api_app.state
    app_state.graph_client = httpx.AsyncClient(base_url="http://127.0.0.1:1")
    try:
        response = await client.get(f"/v1/members/{target.member_id}/paths", headers=me.headers)
    finally:
        await app_state.graph_client.aclose()
        app_state.graph_client = api_graph
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


async def test_a_policy_counts_strong_mutuals_asked_of_the_graph(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    inviter, me, *mutuals = await sign_in_all(client, "Inviter", "Me", "M1", "M2", "M3")
    presets = (await client.get("/v1/policy-presets", headers=me.headers)).json()
    semi_open = next(p for p in presets if p["name"] == "semi_open")["policy"]
    await client.put("/v1/me/policy", json=semi_open, headers={**me.headers, "If-Match": '"0"'})
    for mutual in mutuals:
        await connect(client, me, mutual, 8, 8)
        await connect(client, mutual, inviter, 8, 8)
    await project_outbox(db_session, api_graph)
    sent = await client.post(
        "/v1/invitations",
        json={"to_member_id": str(me.member_id), "note": "Hi", "how_we_met": "never_met"},
        headers=inviter.headers,
    )
    view = (
        await client.get(f"/v1/invitations/{sent.json()['invitation_id']}", headers=me.headers)
    ).json()
    assert view["suggestion"]["rule"] == "Three good mutuals"
    assert (
        "you share 3 mutual connection(s) with strength at least 0.5"
        in view["suggestion"]["reasons"]
    )
