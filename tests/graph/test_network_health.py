"""The network health report: histogram, fading links, links to weed out."""

from datetime import timedelta

import httpx
import pytest

from services.graph.database import Graph
from services.graph.projection.apply import apply_event
from tests.graph.builders import T0, created, get_json, interacted, new_id

HALF_LIFE = timedelta(days=180)
AT = T0 + HALF_LIFE


async def _connect(
    graph: Graph,
    me: str,
    sequence: int,
    my_rating: int | None,
    *,
    connected_at: timedelta = HALF_LIFE,
    interaction: timedelta | None = None,
    how_we_met: str = "coffee",
) -> str:
    """Connect ``me`` to a new member ``connected_at`` before AT, optionally with an
    interaction ``interaction`` before AT."""
    other = new_id()
    await apply_event(
        graph,
        created(
            sequence,
            me,
            other,
            inviter_rating=my_rating,
            invitee_rating=10,
            how_we_met=how_we_met,
            connected_at=AT - connected_at,
        ),
    )
    if interaction is not None:
        await apply_event(graph, interacted(sequence + 1000, other, me, AT - interaction))
    return other


async def _health(client: httpx.AsyncClient, member: str) -> dict[str, object]:
    body: dict[str, object] = await get_json(
        client, f"/internal/v1/members/{member}/health", at=AT.isoformat()
    )
    return body


async def test_health_counts_every_connection_by_how_we_met(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me = new_id()
    await _connect(graph, me, 1, 8, how_we_met="beer")
    await _connect(graph, me, 2, None, how_we_met="beer")
    await _connect(graph, me, 3, 4, how_we_met="meal")

    body = await _health(graph_client, me)

    assert body["total"] == 3
    assert body["by_how_we_met"] == {
        "coffee": 0, "meal": 1, "beer": 2, "event": 0, "worked_together": 0,
        "known_online": 0, "never_met": 0,
    }  # fmt: skip


async def test_histogram_rounds_my_effective_rating_half_up(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me = new_id()
    await _connect(graph, me, 1, 10)  # one half-life: 1 + 9 / 2 = 5.5 -> 6
    await _connect(graph, me, 2, 4, connected_at=timedelta(0))  # fresh: 4
    await _connect(graph, me, 3, None)  # unrated by me: not in the histogram

    body = await _health(graph_client, me)

    assert body["effective_rating_histogram"] == {
        **{str(bucket): 0 for bucket in range(1, 11)}, "4": 1, "6": 1,
    }  # fmt: skip


async def test_fading_lists_links_two_or_more_below_my_rating(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me = new_id()
    faded = await _connect(graph, me, 1, 9)  # 9 -> 5
    await _connect(graph, me, 2, 9, interaction=timedelta(days=1))  # barely faded
    await _connect(graph, me, 3, 3)  # 3 -> 2: one below
    await _connect(graph, me, 4, None)

    body = await _health(graph_client, me)

    assert body["fading"] == [
        {"member_id": faded, "my_rating": 9, "my_effective_rating": pytest.approx(5.0)}
    ]


async def test_weed_out_lists_low_ratings_and_silent_threes(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me = new_id()
    two = await _connect(graph, me, 1, 2, interaction=timedelta(days=1))
    silent_three = await _connect(graph, me, 2, 3, connected_at=timedelta(days=90))
    await _connect(graph, me, 3, 3, connected_at=timedelta(days=89, hours=23))
    await _connect(
        graph, me, 4, 3, connected_at=timedelta(days=400), interaction=timedelta(days=10)
    )
    await _connect(graph, me, 5, 4, connected_at=timedelta(days=400))
    await _connect(graph, me, 6, None, connected_at=timedelta(days=400))

    body = await _health(graph_client, me)

    assert body["weed_out"] == [
        {"member_id": two, "my_rating": 2, "days_since_interaction": 1},
        {"member_id": silent_three, "my_rating": 3, "days_since_interaction": 90},
    ]


async def test_member_without_connections_has_an_empty_report(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    body = await _health(graph_client, new_id())

    assert body["total"] == 0
    assert body["fading"] == [] and body["weed_out"] == []
