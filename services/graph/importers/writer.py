"""Writes rows to Neo4j in ``UNWIND`` batches and measures the rate."""

import asyncio
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, LiteralString

from services.graph import queries as schema
from services.graph.database import Graph

BATCH_SIZE = 5_000


@dataclass(frozen=True)
class Loaded:
    kind: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float(self.rows)

    def __str__(self) -> str:
        return f"{self.kind}: {self.rows:,} rows in {self.seconds:.1f} s ({self.rate:,.0f} rows/s)"


def batched(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


async def write_batches(
    graph: Graph,
    cypher: LiteralString,
    kind: str,
    rows: Iterable[dict[str, Any]],
    batch_size: int = BATCH_SIZE,
) -> Loaded:
    """One transaction per batch: a failure part-way leaves whole batches, and a rerun
    (MERGE on constrained keys) completes the load."""
    await graph.ensure_schema(schema.SCHEMA)
    started = time.perf_counter()
    total = await _write(graph, cypher, rows, batch_size)
    return Loaded(kind, total, time.perf_counter() - started)


async def _write(
    graph: Graph, cypher: LiteralString, rows: Iterable[dict[str, Any]], batch_size: int
) -> int:
    """Write batch after batch, reading (parsing) the next one in a thread while Neo4j
    writes the current one: the two costs overlap instead of adding up."""
    batches = batched(rows, batch_size)
    total = 0
    batch = await asyncio.to_thread(next, batches, None)
    while batch:
        upcoming = asyncio.create_task(asyncio.to_thread(next, batches, None))
        try:
            await graph.write(cypher, rows=batch)
        except BaseException:
            await asyncio.gather(upcoming, return_exceptions=True)
            raise
        total += len(batch)
        batch = await upcoming
    return total
