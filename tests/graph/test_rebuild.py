"""``rapport graph rebuild``: wipe Neo4j, replay the outbox through the projection."""

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.outbox import OutboxEvent
from services.cli import main
from services.graph.database import Graph
from services.graph.importers.rebuild import rebuild
from services.graph.projection.apply import apply_event
from tests.graph.builders import (
    T0,
    created,
    interacted,
    member_event,
    new_id,
    rated,
    removed,
    snapshot,
)


async def _store(
    sessionmaker: async_sessionmaker[AsyncSession], *events: tuple[str, dict[str, Any]]
) -> list[OutboxEvent]:
    """Outbox rows as the API writes them; PostgreSQL assigns the sequence."""
    rows = [OutboxEvent(type=kind, version=1, payload=payload) for kind, payload in events]
    async with sessionmaker() as session, session.begin():
        session.add_all(rows)
    return rows


def _history() -> list[tuple[str, dict[str, Any]]]:
    ada, bob, cy = new_id(), new_id(), new_id()
    envelopes = [
        member_event(1, ada, "Ada"),
        member_event(2, bob, "Bob", allows_introductions=False),
        created(3, ada, bob, inviter_rating=8),
        created(4, bob, cy, invitee_rating=2),
        rated(5, bob, ada, 9),
        interacted(6, ada, bob, T0),
        removed(7, cy, bob),
    ]
    return [(e.type, e.payload) for e in envelopes]


async def test_rebuild_replays_the_outbox_and_drops_what_it_does_not_hold(
    graph: Graph, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    rows = await _store(committed_db, *_history())
    for row in sorted(rows, key=lambda r: r.sequence):
        await apply_event(graph, row.envelope())
    expected = await snapshot(graph)
    await graph.write("CREATE (:Member {member_id: $id, name: 'stray'})", id=new_id())

    report = await rebuild(graph, committed_db, page_size=3)

    assert (report.events, report.applied, report.rejected) == (7, 7, 0)
    assert await snapshot(graph) == expected


async def test_rebuild_skips_an_event_that_breaks_its_contract(
    graph: Graph, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    ada, bob = new_id(), new_id()
    await _store(
        committed_db,
        ("connection.rated", {"rater_id": ada, "ratee_id": bob, "rating": 42}),
        ("invitation.sent", {"anything": True}),
        (created(1, ada, bob).type, created(1, ada, bob).payload),
    )

    report = await rebuild(graph, committed_db)

    assert (report.events, report.applied, report.rejected) == (3, 1, 1)
    [row] = await graph.read("MATCH ()-[r:KNOWS]->() RETURN count(r) AS connections")
    assert row["connections"] == 1


async def test_rebuild_without_yes_refuses_and_leaves_the_graph(graph: Graph) -> None:
    await apply_event(graph, member_event(1, new_id()))
    before = await snapshot(graph)
    with pytest.raises(SystemExit) as refused:
        await asyncio.to_thread(main, ["graph", "rebuild"])
    assert "--yes" in str(refused.value)
    assert await snapshot(graph) == before
