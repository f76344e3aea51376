"""The projection of outbox events: idempotent, order-safe, removal-proof."""

import asyncio
import random
from datetime import timedelta

import httpx
import pytest

from rapport_common.events import EventEnvelope
from services.graph import queries
from services.graph.database import Graph
from services.graph.importers.network import load_network
from services.graph.projection.apply import apply_event
from tests.graph.builders import (
    T0,
    created,
    envelope,
    interacted,
    member_event,
    new_id,
    rated,
    removed,
    snapshot,
)

PAIR_STATE = """
OPTIONAL MATCH (:Member {member_id: $low})-[r:KNOWS]->(:Member {member_id: $high})
OPTIONAL MATCH (t:ConnectionTombstone {pair_key: $low + ':' + $high})
RETURN properties(r) AS knows, properties(t) AS tombstone
"""


async def _apply(graph: Graph, *events: EventEnvelope) -> None:
    for event in events:
        await apply_event(graph, event)


async def _pair(
    graph: Graph, a: str, b: str
) -> tuple[dict[str, object] | None, dict[str, object] | None]:
    low, high = sorted((a, b))
    [row] = await graph.read(PAIR_STATE, low=low, high=high)
    return row["knows"], row["tombstone"]


def _ratings(knows: dict[str, object], a: str, b: str) -> tuple[object, object]:
    """(a's rating of b, b's rating of a) from the relationship's low/high properties."""
    low, high = knows.get("rating_low"), knows.get("rating_high")
    return (low, high) if a < b else (high, low)


def _history(rng: random.Random, members: int = 6, operations: int = 70) -> list[EventEnvelope]:
    """What the API could publish: members, then connections made, rated, met, removed
    and made again. Interactions are logged as they happen (time follows the sequence)."""
    ids = [new_id() for _ in range(members)]
    events = [member_event(i + 1, m, f"M{i}") for i, m in enumerate(ids)]
    live: set[frozenset[str]] = set()
    while len(events) < members + operations:
        seq = len(events) + 1
        a, b = rng.sample(ids, 2)
        pair = frozenset((a, b))
        if pair not in live:
            live.add(pair)
            events.append(
                created(
                    seq,
                    a,
                    b,
                    inviter_rating=rng.choice([None, 3, 7]),
                    invitee_rating=rng.choice([None, 4, 9]),
                    connected_at=T0 + timedelta(hours=seq),
                )
            )
            continue
        action = rng.random()
        if action < 0.4:
            events.append(rated(seq, a, b, rng.randint(1, 10)))
        elif action < 0.8:
            events.append(interacted(seq, a, b, T0 + timedelta(hours=seq)))
        elif action < 0.9:
            live.discard(pair)
            events.append(removed(seq, a, b))
        else:
            events.append(member_event(seq, a, f"renamed {seq}", allows_introductions=False))
    return events


async def test_replaying_every_event_again_changes_nothing(graph: Graph) -> None:
    events = _history(random.Random(1))
    await _apply(graph, *events)
    once = await snapshot(graph)

    await _apply(graph, *events)

    assert await snapshot(graph) == once
    assert any(row[2] == "KNOWS" for row in once if row[0] == "link")


@pytest.mark.parametrize("seed_value", [2, 3, 4])
async def test_applying_events_shuffled_and_twice_gives_the_in_order_graph(
    graph: Graph, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    events = _history(rng)
    await _apply(graph, *events)
    in_order = await snapshot(graph)
    await graph.write("MATCH (n) DETACH DELETE n")

    shuffled = events * 2
    rng.shuffle(shuffled)
    await _apply(graph, *shuffled)

    assert await snapshot(graph) == in_order


async def test_concurrent_events_for_one_pair_give_the_in_order_graph(graph: Graph) -> None:
    a, b = new_id(), new_id()
    events = [created(1, a, b, inviter_rating=5)]
    events += [
        rated(seq, a if seq % 2 else b, b if seq % 2 else a, seq % 10 + 1) for seq in range(2, 22)
    ]
    events += [interacted(seq, a, b, T0 + timedelta(days=seq)) for seq in range(22, 42)]
    await _apply(graph, *events)
    in_order = await snapshot(graph)
    await graph.write("MATCH (n) DETACH DELETE n")

    await asyncio.gather(*(apply_event(graph, event) for event in reversed(events)))

    assert await snapshot(graph) == in_order


async def test_connection_is_one_relationship_from_the_lower_id(graph: Graph) -> None:
    a, b = sorted((new_id(), new_id()))
    await _apply(graph, created(1, b, a, inviter_rating=9, invitee_rating=2, how_we_met="beer"))

    knows, tombstone = await _pair(graph, a, b)

    assert knows is not None and tombstone is None
    assert (knows["rating_low"], knows["rating_high"], knows["how_we_met"]) == (2, 9, "beer")
    assert knows["event_seq"] == 1


async def test_older_rating_after_a_newer_one_is_ignored(graph: Graph) -> None:
    a, b = new_id(), new_id()
    await _apply(graph, created(1, a, b), rated(10, a, b, 8), rated(5, a, b, 3))

    knows, _ = await _pair(graph, a, b)

    assert knows is not None
    assert _ratings(knows, a, b) == (8, None)
    assert knows["event_seq"] == 10


async def test_replayed_creation_does_not_undo_a_removal(graph: Graph) -> None:
    a, b = new_id(), new_id()
    creation = created(1, a, b, inviter_rating=7)
    await _apply(graph, creation, removed(2, b, a), creation)

    knows, tombstone = await _pair(graph, a, b)

    assert knows is None
    assert tombstone is not None and tombstone["removed_seq"] == 2


async def test_connecting_again_after_a_removal_starts_afresh(graph: Graph) -> None:
    a, b = new_id(), new_id()
    await _apply(
        graph,
        created(1, a, b, inviter_rating=7),
        interacted(2, a, b, T0 + timedelta(days=3)),
        removed(3, a, b),
        created(4, b, a, how_we_met="meal"),
    )

    knows, _ = await _pair(graph, a, b)

    assert knows is not None
    assert _ratings(knows, a, b) == (None, None)
    assert knows["how_we_met"] == "meal" and "last_interaction_at" not in knows


async def test_rating_that_arrives_before_its_connection_is_kept(graph: Graph) -> None:
    a, b = new_id(), new_id()
    await _apply(graph, rated(3, a, b, 9), created(2, a, b, inviter_rating=4))

    knows, tombstone = await _pair(graph, a, b)

    assert knows is not None and tombstone is None
    assert _ratings(knows, a, b) == (9, None)


async def test_interaction_only_moves_last_interaction_forward(graph: Graph) -> None:
    a, b = new_id(), new_id()
    later, earlier = T0 + timedelta(days=20), T0 + timedelta(days=5)
    await _apply(graph, created(1, a, b), interacted(2, a, b, later), interacted(3, b, a, earlier))

    knows, _ = await _pair(graph, a, b)

    assert knows is not None
    assert knows["last_interaction_at"].to_native() == later  # type: ignore[attr-defined]


async def test_member_event_fills_a_member_first_seen_through_a_connection(graph: Graph) -> None:
    a, b = new_id(), new_id()
    await _apply(graph, created(5, a, b), member_event(2, a, "Grace", allows_introductions=False))

    [member] = await graph.read(queries.GET_MEMBER, member_id=a)

    assert (member["name"], member["allows_introductions"], member["event_seq"]) == (
        "Grace",
        False,
        2,
    )


async def test_member_events_carry_the_privacy_settings_into_the_graph(graph: Graph) -> None:
    member, older = new_id(), new_id()
    await _apply(
        graph,
        envelope(
            3,
            "member.updated",
            member_id=member,
            name="Grace",
            is_recruiter=False,
            allows_introductions=True,
            connections_visible_to="only_me",
            reachable_by="second_degree",
        ),
        member_event(4, older, "Ada"),  # written before the settings were carried
    )

    [stored] = await graph.read(queries.GET_MEMBER, member_id=member)
    [defaults] = await graph.read(queries.GET_MEMBER, member_id=older)

    assert (stored["connections_visible_to"], stored["reachable_by"]) == (
        "only_me",
        "second_degree",
    )
    assert (defaults["connections_visible_to"], defaults["reachable_by"]) == (
        "connections",
        "everyone",
    )


async def test_concurrent_member_events_leave_the_newest(graph: Graph) -> None:
    member = new_id()
    events = [member_event(seq, member, f"name {seq}") for seq in range(1, 31)]

    await asyncio.gather(*(apply_event(graph, event) for event in reversed(events)))

    [stored] = await graph.read(queries.GET_MEMBER, member_id=member)
    assert (stored["name"], stored["event_seq"]) == ("name 30", 30)


async def test_event_naming_one_member_twice_is_rejected(graph_client: httpx.AsyncClient) -> None:
    a = new_id()
    response = await graph_client.post(
        "/internal/v1/events", json=created(1, a, a).model_dump(mode="json")
    )

    assert response.status_code == 422
    assert response.json()["type"].endswith("/self-connection")


async def test_event_breaking_its_contract_is_rejected(graph_client: httpx.AsyncClient) -> None:
    event = rated(1, new_id(), new_id(), 5).model_dump(mode="json")
    event["payload"]["rating"] = 11

    response = await graph_client.post("/internal/v1/events", json=event)

    assert response.status_code == 422
    assert response.json()["type"].endswith("/invalid-event")


async def test_event_about_an_imported_connection_updates_it(graph: Graph) -> None:
    a, b = new_id(), new_id()
    low, high = sorted((a, b))
    await load_network(graph, [], [[low, high, 4, 6, "event", 1_700_000_000_000, None]])

    await _apply(graph, rated(1, a, b, 10), interacted(2, b, a, T0))

    knows, _ = await _pair(graph, a, b)
    assert knows is not None
    assert _ratings(knows, a, b) == (10, 6 if a == low else 4)
    assert knows["how_we_met"] == "event" and knows["event_seq"] == 2
    assert knows["last_interaction_at"].to_native() == T0  # type: ignore[attr-defined]
