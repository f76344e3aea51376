"""Each member's stored ``degree`` (services/graph/queries.py): the number of its KNOWS,
exact whatever order and concurrency the events come in, replayed, after a member is
deleted, a rebuild or an import, and unknown (counted by the reader) until filled in."""

import asyncio
import random
from typing import LiteralString

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.events import EventEnvelope
from rapport_common.outbox import OutboxEvent
from services.graph.database import Graph
from services.graph.importers.network import fill_degrees, load_network
from services.graph.importers.rebuild import rebuild
from services.graph.projection.apply import apply_event
from tests.graph.builders import (
    check_pairs_against_brute_force,
    created,
    envelope,
    member_event,
    new_id,
    removed,
    seed,
)
from tests.graph.reference import AT, random_network

DEGREES: LiteralString = """
MATCH (m:Member)
RETURN m.member_id AS member_id, m.degree AS stored, COUNT { (m)-[:KNOWS]-() } AS counted
"""


async def _degrees(graph: Graph) -> dict[str, tuple[int | None, int]]:
    return {row["member_id"]: (row["stored"], row["counted"]) for row in await graph.read(DEGREES)}


async def _assert_exact(graph: Graph) -> dict[str, int]:
    """Every member has a stored degree, equal to its relationships counted."""
    degrees = await _degrees(graph)
    assert degrees
    assert all(stored == counted for stored, counted in degrees.values()), degrees
    return {member: counted for member, (_, counted) in degrees.items()}


def _churn(rng: random.Random, members: list[str], operations: int) -> list[EventEnvelope]:
    """Connections made, removed and made again among a few members, so every member
    gains and loses links many times over (one of them, ``members[0]``, in most pairs)."""
    events = [member_event(i + 1, m) for i, m in enumerate(members)]
    live: set[frozenset[str]] = set()
    while len(events) < len(members) + operations:
        seq = len(events) + 1
        a = members[0] if rng.random() < 0.5 else rng.choice(members[1:])
        b = rng.choice([m for m in members if m != a])
        pair = frozenset((a, b))
        if pair in live and rng.random() < 0.6:
            live.discard(pair)
            events.append(removed(seq, a, b))
        else:
            live.add(pair)
            events.append(created(seq, a, b, inviter_rating=rng.randint(1, 10)))
    return events


async def _apply(graph: Graph, *events: EventEnvelope) -> None:
    for event in events:
        await apply_event(graph, event)


async def test_degrees_stay_exact_under_concurrent_connects_and_removals(graph: Graph) -> None:
    rng = random.Random(7)
    members = [new_id() for _ in range(7)]
    events = _churn(rng, members, 120)
    await _apply(graph, *events)
    in_order = await _assert_exact(graph)
    assert in_order[members[0]] > 0
    await graph.write("MATCH (n) DETACH DELETE n")

    # Every event twice, all at once, in random order: the same members connect and
    # disconnect in parallel transactions.
    shuffled = events * 2
    rng.shuffle(shuffled)
    await asyncio.gather(*(apply_event(graph, event) for event in shuffled))

    assert await _assert_exact(graph) == in_order


async def test_degrees_stay_exact_when_events_are_replayed(graph: Graph) -> None:
    members = [new_id() for _ in range(5)]
    events = _churn(random.Random(8), members, 60)
    await _apply(graph, *events)
    once = await _assert_exact(graph)

    await _apply(graph, *events)
    await _apply(graph, *reversed(events))

    assert await _assert_exact(graph) == once


async def test_a_deleted_member_leaves_its_friends_one_link_fewer(graph: Graph) -> None:
    gone, friend, other = new_id(), new_id(), new_id()
    await _apply(
        graph, created(1, gone, friend), created(2, gone, other), created(3, friend, other)
    )
    assert (await _assert_exact(graph))[friend] == 2
    deletion = envelope(4, "member.deleted", member_id=gone)

    await _apply(graph, deletion, deletion)

    assert await _assert_exact(graph) == {friend: 1, other: 1}


async def test_a_rebuild_leaves_exact_degrees(
    graph: Graph, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    members = [new_id() for _ in range(5)]
    events = _churn(random.Random(9), members, 40)
    async with committed_db() as session:
        session.add_all(
            OutboxEvent(type=event.type, version=1, payload=event.payload) for event in events
        )
        await session.commit()
    await _apply(graph, *events)
    expected = await _assert_exact(graph)
    # A degree gone wrong (as after writes from an older version) does not survive.
    await graph.write("MATCH (m:Member {member_id: $id}) SET m.degree = 99", id=members[0])

    await rebuild(graph, committed_db)

    assert await _assert_exact(graph) == expected


async def test_an_import_leaves_degrees_unknown_until_filled_in(graph: Graph) -> None:
    a, b, c = new_id(), new_id(), new_id()
    await _apply(graph, created(1, a, b))
    # The import adds a-c and b-c without counting them: the members it names have no
    # degree until the fill, which a reader does not wait for (it counts instead).
    await load_network(graph, [[a, "A", False, True]], [[*sorted((a, c)), 5, 5, "coffee", 0, None]])
    await load_network(graph, [], [[*sorted((b, c)), 5, 5, "coffee", 0, None]])
    degrees = await _degrees(graph)
    assert {m: stored for m, (stored, _) in degrees.items()} == {a: None, b: None, c: None}

    assert await fill_degrees(graph) == 3
    assert await _assert_exact(graph) == {a: 2, b: 2, c: 2}
    assert await fill_degrees(graph) == 0


async def test_filling_in_while_the_projection_writes_stays_exact(graph: Graph) -> None:
    members = [new_id() for _ in range(8)]
    await load_network(
        graph,
        ([m, m[:8], False, True] for m in members),
        ([*sorted((members[0], m)), 5, 5, "coffee", 0, None] for m in members[1:]),
    )
    events = _churn(random.Random(10), members, 80)

    # Each member is counted under its lock: an event's link is counted by the fill or
    # added to what it stored, never both or neither.
    await asyncio.gather(fill_degrees(graph), *(apply_event(graph, event) for event in events))

    await _assert_exact(graph)


async def test_paths_read_stored_degrees_and_still_match_brute_force(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    rng = random.Random(11)
    network = random_network(rng, members=40, links=160, at=AT)
    await seed(graph, network)
    assert await fill_degrees(graph) == len(network.allows)
    members = sorted(network.allows)
    pairs = [(a, b) for a, b in (rng.sample(members, 2) for _ in range(30))]

    found = await check_pairs_against_brute_force(graph_client, network, pairs, AT, limit=5)

    assert found > 10
