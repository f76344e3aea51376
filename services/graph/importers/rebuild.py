"""Rebuilds the graph from PostgreSQL: wipe Neo4j, then replay every outbox event in
sequence order through the projection the live service uses."""

import logging
import time
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.outbox import OutboxEvent
from rapport_common.web.problems import Problem
from services.graph import queries as schema
from services.graph.database import Graph
from services.graph.importers import queries
from services.graph.projection.apply import apply_event

logger = logging.getLogger(__name__)

PAGE_SIZE = 1_000
WIPE_BATCH = 20_000


@dataclass(frozen=True)
class Rebuilt:
    events: int
    applied: int
    rejected: int
    seconds: float

    def __str__(self) -> str:
        rate = self.events / self.seconds if self.seconds > 0 else float(self.events)
        return (
            f"events: {self.events:,} read, {self.applied:,} applied, {self.rejected:,} "
            f"rejected in {self.seconds:.1f} s ({rate:,.0f} events/s)"
        )


async def wipe(graph: Graph) -> None:
    for cypher in (queries.WIPE_RELATIONSHIPS, queries.WIPE_NODES):
        while (await graph.write(cypher, limit=WIPE_BATCH))[0]["deleted"]:
            pass
    graph.schema_ready = False
    await graph.ensure_schema(schema.SCHEMA)


async def rebuild(
    graph: Graph, sessionmaker: async_sessionmaker[AsyncSession], page_size: int = PAGE_SIZE
) -> Rebuilt:
    """Safe to rerun, and to run while the service applies live events: the projection
    is idempotent and order-safe, so a live event applied before or after its replay
    leaves the same graph. An event the projection rejects (it breaks its contract, as it
    would live) is logged and skipped."""
    started = time.perf_counter()
    await wipe(graph)
    last_sequence, events, applied, rejected = 0, 0, 0, 0
    while True:
        # Keyset pages on the unique sequence: no offset scans, no page held open.
        async with sessionmaker() as session:
            page = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.sequence > last_sequence)
                    .order_by(OutboxEvent.sequence)
                    .limit(page_size)
                )
            ).all()
        if not page:
            break
        for event in page:
            try:
                applied += await apply_event(graph, event.envelope())
            except (ValidationError, LookupError, Problem) as exc:
                rejected += 1
                logger.warning(
                    "outbox event rejected by the projection",
                    extra={"sequence": event.sequence, "type": event.type, "error": str(exc)},
                )
        events += len(page)
        last_sequence = page[-1].sequence
    return Rebuilt(events, applied, rejected, time.perf_counter() - started)
