"""Builders for graph tests: outbox envelopes, a snapshot of the whole graph, and seeding
a network straight through the bulk writer."""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, LiteralString

import httpx
import pytest

from rapport_common.events import EventEnvelope
from rapport_common.strength import epoch_ms
from services.graph.database import Graph
from services.graph.importers.network import load_network
from tests.graph import reference
from tests.graph.reference import Link, Network

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def envelope(sequence: int, event_type: str, **payload: Any) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        sequence=sequence,
        type=event_type,
        version=1,
        occurred_at=T0,
        payload={k: v.isoformat() if isinstance(v, datetime) else v for k, v in payload.items()},
    )


def member_event(
    sequence: int, member_id: str, name: str = "Ada", *, allows_introductions: bool = True
) -> EventEnvelope:
    return envelope(
        sequence,
        "member.registered",
        member_id=member_id,
        name=name,
        is_recruiter=False,
        allows_introductions=allows_introductions,
    )


def created(
    sequence: int,
    inviter: str,
    invitee: str,
    *,
    inviter_rating: int | None = None,
    invitee_rating: int | None = None,
    how_we_met: str = "coffee",
    connected_at: datetime = T0,
) -> EventEnvelope:
    return envelope(
        sequence,
        "connection.created",
        inviter_id=inviter,
        invitee_id=invitee,
        inviter_rating=inviter_rating,
        invitee_rating=invitee_rating,
        how_we_met=how_we_met,
        connected_at=connected_at,
    )


def rated(sequence: int, rater: str, ratee: str, rating: int) -> EventEnvelope:
    return envelope(sequence, "connection.rated", rater_id=rater, ratee_id=ratee, rating=rating)


def removed(sequence: int, member: str, other: str) -> EventEnvelope:
    return envelope(
        sequence, "connection.removed", member_id=member, other_member_id=other, removed_at=T0
    )


def interacted(sequence: int, member: str, other: str, occurred_at: datetime) -> EventEnvelope:
    return envelope(
        sequence,
        "interaction.logged",
        member_id=member,
        other_member_id=other,
        kind="coffee",
        occurred_at=occurred_at,
    )


SNAPSHOT_NODES = """
MATCH (n)
RETURN labels(n) AS labels, properties(n) AS properties
"""
SNAPSHOT_LINKS = """
MATCH (a)-[r]->(b)
RETURN a.member_id AS start, type(r) AS type, b.member_id AS end, properties(r) AS properties
"""


def _plain(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


async def snapshot(graph: Graph) -> list[tuple[str, ...]]:
    """Every node and relationship with all properties, sorted: two equal snapshots are
    two equal graphs."""
    rows: list[tuple[str, ...]] = [
        (
            "node",
            str(sorted(row["labels"])),
            str(sorted((k, _plain(v)) for k, v in row["properties"].items())),
        )
        for row in await graph.read(SNAPSHOT_NODES)
    ]
    rows += [
        (
            "link",
            row["start"],
            row["type"],
            row["end"],
            str(sorted((k, _plain(v)) for k, v in row["properties"].items())),
        )
        for row in await graph.read(SNAPSHOT_LINKS)
    ]
    return sorted(rows)


SET_PRIVACY: LiteralString = """
UNWIND $rows AS row
MATCH (m:Member {member_id: row[0]})
SET m.connections_visible_to = row[1], m.reachable_by = row[2]
"""


async def seed(graph: Graph, network: Network) -> None:
    """Write a reference network through the bulk loader (quicker than events), then
    the privacy settings it has (the loader, like the importers, leaves them out)."""
    await load_network(
        graph,
        ([m, m[:8], False, allows] for m, allows in network.allows.items()),
        _rows(network.links.values()),
    )
    rows = [
        [m, network.visible.get(m), network.reach.get(m)]
        for m in network.allows
        if m in network.visible or m in network.reach
    ]
    if rows:
        await graph.write(SET_PRIVACY, rows=rows)


def _rows(links: Iterable[Link]) -> Iterable[list[Any]]:
    for link in links:
        low, high = sorted((link.a, link.b))
        yield [
            low,
            high,
            link.rating_by_a if low == link.a else link.rating_by_b,
            link.rating_by_b if low == link.a else link.rating_by_a,
            link.how_we_met,
            epoch_ms(link.connected_at),
            epoch_ms(link.last_interaction_at) if link.last_interaction_at else None,
        ]


async def get_json(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def check_pairs_against_brute_force(
    client: httpx.AsyncClient,
    network: Network,
    pairs: list[tuple[str, str]],
    at: datetime,
    limit: int = 100,
) -> int:
    """Compare every pair; return how many had at least one path (so a test can show it
    did not pass vacuously)."""
    with_paths = 0
    for source, target in pairs:
        degree, expected = reference.paths(network, source, target, limit, at)
        body = await get_json(
            client,
            "/internal/v1/paths",
            source=source,
            target=target,
            limit=limit,
            at=at.isoformat(),
        )
        assert body["degree"] == degree, (source, target)
        got = [(tuple(p["intermediaries"]), p["score"]) for p in body["paths"]]
        assert [ids for ids, _ in got] == [p.intermediaries for p in expected], (source, target)
        assert [score for _, score in got] == pytest.approx([p.score for p in expected], rel=1e-9)
        only_degree = await get_json(
            client, "/internal/v1/degree", source=source, target=target, at=at.isoformat()
        )
        assert only_degree["degree"] == degree, (source, target)
        with_paths += bool(expected)
    return with_paths
