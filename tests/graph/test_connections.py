"""A member's connections: private ratings, strength, decay on a controllable clock."""

from datetime import timedelta

import httpx
import pytest

from rapport_common.events import EventEnvelope
from services.graph.database import Graph
from services.graph.projection.apply import apply_event
from tests.graph.builders import T0, created, get_json, interacted, new_id, rated

HALF_LIFE = timedelta(days=180)


async def _apply(graph: Graph, *events: EventEnvelope) -> None:
    for event in events:
        await apply_event(graph, event)


def _url(member: str, other: str | None = None) -> str:
    base = f"/internal/v1/members/{member}/connections"
    return base if other is None else f"{base}/{other}"


async def test_connections_come_strongest_first_with_only_my_rating(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me, strong, weak, unrated = new_id(), new_id(), new_id(), new_id()
    await _apply(
        graph,
        created(1, me, strong, inviter_rating=9, invitee_rating=8),
        created(2, weak, me, inviter_rating=10, invitee_rating=3),
        created(3, me, unrated, invitee_rating=10, how_we_met="beer"),
    )

    body = await get_json(graph_client, _url(me), at=T0.isoformat())

    assert [(c["member_id"], c["my_rating"], c["strength"]) for c in body["connections"]] == [
        (strong, 9, pytest.approx(0.8)),
        (unrated, None, pytest.approx(0.5)),
        (weak, 3, pytest.approx(0.3)),
    ]
    assert body["connections"][1]["my_effective_rating"] is None
    assert body["connections"][1]["how_we_met"] == "beer"
    assert all("their_rating" not in c for c in body["connections"])


async def test_rating_fades_to_halfway_after_one_half_life(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me, friend = new_id(), new_id()
    await _apply(graph, created(1, me, friend, inviter_rating=9, invitee_rating=9))

    body = await get_json(graph_client, _url(me, friend), at=(T0 + HALF_LIFE).isoformat())

    assert body["my_effective_rating"] == pytest.approx(5.0)
    assert body["strength"] == pytest.approx(0.5)


async def test_interaction_restores_strength(graph: Graph, graph_client: httpx.AsyncClient) -> None:
    me, friend = new_id(), new_id()
    lunch = T0 + HALF_LIFE
    await _apply(
        graph,
        created(1, me, friend, inviter_rating=9, invitee_rating=9),
        interacted(2, friend, me, lunch),
    )

    body = await get_json(graph_client, _url(me, friend), at=lunch.isoformat())

    assert body["strength"] == pytest.approx(0.9)
    assert body["last_interaction_at"].startswith(lunch.date().isoformat())


async def test_unrated_side_counts_as_five(graph: Graph, graph_client: httpx.AsyncClient) -> None:
    me, friend = new_id(), new_id()
    await _apply(graph, created(1, me, friend, inviter_rating=9))

    now = await get_json(graph_client, _url(me, friend), at=T0.isoformat())
    later = await get_json(graph_client, _url(me, friend), at=(T0 + HALF_LIFE).isoformat())

    assert now["strength"] == pytest.approx(0.5)
    assert later["strength"] == pytest.approx(0.3)  # 1 + (5 - 1) / 2 = 3


async def test_rerating_changes_strength(graph: Graph, graph_client: httpx.AsyncClient) -> None:
    me, friend = new_id(), new_id()
    await _apply(
        graph, created(1, me, friend, inviter_rating=9, invitee_rating=9), rated(2, friend, me, 4)
    )

    body = await get_json(graph_client, _url(me, friend), at=T0.isoformat())

    assert (body["my_rating"], body["strength"]) == (9, pytest.approx(0.4))


async def test_clock_before_the_connection_does_not_strengthen_it(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me, friend = new_id(), new_id()
    await _apply(graph, created(1, me, friend, inviter_rating=6, invitee_rating=6))

    body = await get_json(graph_client, _url(me, friend), at=(T0 - HALF_LIFE).isoformat())

    assert body["my_effective_rating"] == pytest.approx(6.0)


async def test_time_without_an_offset_is_read_as_utc(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me, friend = new_id(), new_id()
    await _apply(graph, created(1, me, friend, inviter_rating=9, invitee_rating=9))
    at = (T0 + HALF_LIFE).replace(tzinfo=None)

    body = await get_json(graph_client, _url(me, friend), at=at.isoformat())

    assert body["strength"] == pytest.approx(0.5)


async def test_limit_keeps_the_strongest_connections(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me, friends = new_id(), [new_id() for _ in range(4)]
    await _apply(
        graph,
        *(
            created(i + 1, me, f, inviter_rating=2 + i, invitee_rating=10)
            for i, f in enumerate(friends)
        ),
    )

    body = await get_json(graph_client, _url(me), at=T0.isoformat(), limit=2)

    assert [c["member_id"] for c in body["connections"]] == [friends[3], friends[2]]


async def test_members_not_connected_answer_404(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    response = await graph_client.get(_url(new_id(), new_id()))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_member_without_connections_has_an_empty_list(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    assert await get_json(graph_client, _url(new_id())) == {"connections": []}


async def test_malformed_member_id_is_422(graph_client: httpx.AsyncClient) -> None:
    response = await graph_client.get(_url("not-a-uuid"))

    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == ["path", "member_id"]
