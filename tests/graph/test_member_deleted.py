"""member.deleted: the node, its relationships and its pairs' tombstones go, and
applying it again (or for a member the graph never saw) changes nothing."""

from rapport_common.events import EventEnvelope
from services.graph.database import Graph
from services.graph.projection.apply import apply_event
from tests.graph.builders import created, envelope, member_event, new_id, removed

EVERYTHING = """
MATCH (n) OPTIONAL MATCH (n)-[r]-()
RETURN collect(DISTINCT properties(n)) AS nodes, collect(DISTINCT properties(r)) AS links
"""


async def _apply(graph: Graph, *events: EventEnvelope) -> None:
    for event in events:
        await apply_event(graph, event)


async def test_member_deleted_removes_the_node_its_links_and_tombstones_idempotently(
    graph: Graph,
) -> None:
    gone, friend, former, other = new_id(), new_id(), new_id(), new_id()
    await _apply(
        graph,
        member_event(1, gone),
        member_event(2, friend),
        member_event(3, other),
        created(4, gone, friend),
        created(5, gone, former),
        removed(6, gone, former),
        created(7, friend, other),
    )
    deletion = envelope(8, "member.deleted", member_id=gone)
    await _apply(graph, deletion)
    first = await graph.write(EVERYTHING)
    await _apply(graph, deletion, envelope(9, "member.deleted", member_id=new_id()))
    assert await graph.write(EVERYTHING) == first
    assert gone not in str(first)
    # The others and their own link stay.
    assert friend in str(first) and other in str(first)
    assert any(link.get("how_we_met") for link in first[0]["links"])
