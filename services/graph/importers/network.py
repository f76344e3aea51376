"""Loads a network in two passes: every member first, then the connections between them.

Members are MERGEd on their constrained ``member_id`` and hand back their element ids;
connections then find both ends by element id and write the relationship. Splitting the
passes removes the Eager that a single statement needs between its node MERGEs and its
relationship MERGE, and lets the connection pass CREATE instead of MERGE when the pair
cannot be linked yet: when the graph had no ``KNOWS`` at all as the pass started, for
the first row of each pair (rows are deduplicated per pair here). Every other case, a
graph that already holds connections (a rerun, the projection's writes) or a pair listed
again later in the input, goes through MERGE, so a rerun leaves the same graph and the
last row of a pair wins.

Row layouts (lists, see ``queries.py``): member
``[member_id, name, is_recruiter, allows_introductions]``; connection
``[low_id, high_id, rating_low, rating_high, how_we_met, created_ms, last_interaction_ms]``
with ``low_id < high_id``.
"""

import gc
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, LiteralString

from rapport_common.settings import get_settings
from rapport_common.strength import rank_parameters
from services.graph import queries as schema
from services.graph.database import Graph
from services.graph.importers import queries
from services.graph.importers.writer import (
    BATCH_SIZE,
    WRITERS,
    InFlight,
    Loaded,
    Row,
    batched,
    read_ahead,
)

IMPORT_PATIENCE_SECONDS = 120.0


async def load_network(
    graph: Graph,
    members: Iterable[Row],
    connections: Iterable[Row],
    batch_size: int = BATCH_SIZE,
    writers: int = WRITERS,
) -> list[Loaded]:
    """Safe to rerun: members are MERGEd on a constrained key, and connections are only
    CREATEd into a graph that had none. A failure part-way leaves whole batches."""
    # A cold Neo4j (just started) plans and loads slowly: the first batches may run out
    # of time and are retried, for longer than a request would be.
    graph = graph.with_patience(IMPORT_PATIENCE_SECONDS)
    await graph.ensure_schema(schema.SCHEMA)
    await graph.warm_up(queries.WARM_UP)
    # Connections get rank keys of the model the graph service searches with (the same
    # settings), recorded before the first is written.
    rank = rank_parameters(get_settings().strength)
    await graph.write(schema.RECORD_RANK_MODEL, **rank)
    nodes: dict[str, str] = {}  # member_id -> element id, for this run only
    with _collector_paused():
        loaded_members = await _load_members(graph, members, nodes, batch_size, writers)
        loaded_connections = await _load_connections(
            graph, connections, nodes, batch_size, writers, rank
        )
    return [loaded_members, loaded_connections]


FILL_BATCH = 5_000


async def fill_degrees(graph: Graph) -> int:
    """Count the relationships of every member whose ``degree`` is unknown (after an
    import, an offline import, or on a graph from before degrees were kept), in keyset
    pages by member_id: the graph service does it each time it has warmed Neo4j up.
    Safe while the projection writes (``schema.FILL_DEGREES``) and to rerun: a known
    degree is left as it is. Returns how many were filled."""
    after, filled = "", 0
    while True:
        [page] = await graph.write(schema.FILL_DEGREES, after=after, limit=FILL_BATCH)
        filled += int(page["filled"])
        if page["seen"] < FILL_BATCH:
            return filled
        after = page["last"]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Millions of short-lived rows would trigger the cycle collector again and again
    (about a sixth of the importer's Python time, profiled). Rows are flat lists, freed
    by reference counting, so the collector is paused for the load and then run once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


async def _load_members(
    graph: Graph, rows: Iterable[Row], nodes: dict[str, str], batch_size: int, writers: int
) -> Loaded:
    started, total = time.perf_counter(), 0

    async def write(batch: list[Row]) -> None:
        [result] = await graph.write(queries.IMPORT_MEMBERS, rows=batch)
        nodes.update(result["nodes"])

    # Members of different batches are different nodes (a member listed twice MERGEs
    # the same key, which the constraint's index entry lock serialises), so batches
    # may run side by side.
    async with InFlight(writers) as in_flight:
        async for batch in read_ahead(batched(rows, batch_size)):
            await in_flight.add(write(batch))
            total += len(batch)
    return Loaded("members", total, time.perf_counter() - started)


async def _load_connections(
    graph: Graph,
    rows: Iterable[Row],
    nodes: dict[str, str],
    batch_size: int,
    writers: int,
    rank: dict[str, Any],
) -> Loaded:
    started = time.perf_counter()
    [state] = await graph.read(queries.HAS_CONNECTIONS)
    first_write = queries.MERGE_CONNECTIONS if state["any"] else queries.CREATE_CONNECTIONS
    pairs = _Pairs(rows)
    # Batches hold distinct pairs, so two in flight never write the same relationship;
    # they may share members, and the driver retries the rare deadlock that causes.
    async with InFlight(writers) as in_flight:
        async for batch in read_ahead(batched(pairs.first_rows(), batch_size)):
            await _add_bare_members(graph, batch, nodes)
            await in_flight.add(_write_connections(graph, first_write, batch, nodes, rank))
    # A pair listed again is written after every first row, in input order, so the
    # last row of a pair wins.
    for batch in batched(pairs.repeats, batch_size):
        await _add_bare_members(graph, batch, nodes)
        await _write_connections(graph, queries.MERGE_CONNECTIONS, batch, nodes, rank)
    return Loaded("connections", pairs.rows, time.perf_counter() - started)


class _Pairs:
    """Splits connection rows into the first row of each pair and the rows that repeat a
    pair. Pairs are remembered by hash, to keep millions of them in little memory: two
    pairs with the same hash only send the second one the MERGE way, which is slower
    but just as correct."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self.source = rows
        self.rows = 0
        self.repeats: list[Row] = []

    def first_rows(self) -> Iterator[Row]:
        seen: set[int] = set()
        for row in self.source:
            self.rows += 1
            key = hash((row[0], row[1]))
            if key in seen:
                self.repeats.append(row)
            else:
                seen.add(key)
                yield row


async def _add_bare_members(graph: Graph, batch: list[Row], nodes: dict[str, str]) -> None:
    unknown = {member for row in batch for member in row[:2] if member not in nodes}
    if unknown:
        [result] = await graph.write(queries.IMPORT_BARE_MEMBERS, member_ids=sorted(unknown))
        nodes.update(result["nodes"])


async def _write_connections(
    graph: Graph,
    cypher: LiteralString,
    batch: list[Row],
    nodes: dict[str, str],
    rank: dict[str, Any],
) -> None:
    for row in batch:  # in place: a copy of every row costs more than it is worth
        row[0], row[1] = nodes[row[0]], nodes[row[1]]
    [result] = await graph.write(cypher, rows=batch, **rank)
    if result["written"] != len(batch):
        raise RuntimeError(
            f"{len(batch) - result['written']} connections not written: a member node "
            "disappeared during the import (a wipe or rebuild running at the same time?); "
            "run the import again"
        )
