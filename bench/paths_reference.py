"""What a Neo4j user would write instead of the graph service, run with the official
driver on the same Neo4j: a variable-length match scored with ``reduce()``, and
``shortestPath`` (hop count only). Each runs under a timeout; a query that hits it
counts as a miss at the timeout value.

The relationship properties are the graph service's (``services/graph/queries.py``,
``importers/queries.py``): one ``KNOWS`` per pair, stored low id -> high id, with
``rating_low``, ``rating_high``, ``created_at`` and ``last_interaction_at``; the score is
the product of the links' strengths, as in README, "The strength model".
"""

import time
from dataclasses import dataclass
from typing import Any, LiteralString

from neo4j import AsyncDriver, Query, RoutingControl
from neo4j.exceptions import ClientError, TransientError

from bench.config import AT

STRAIGHTFORWARD: LiteralString = """
MATCH p = (a:Member {member_id: $source})-[:KNOWS*1..3]-(b:Member {member_id: $target})
WITH p, reduce(score = 1.0, r IN relationships(p) |
  score * (1 + ((CASE WHEN coalesce(r.rating_low, $unrated) < coalesce(r.rating_high, $unrated)
                      THEN coalesce(r.rating_low, $unrated)
                      ELSE coalesce(r.rating_high, $unrated) END) - 1)
             * 2.0 ^ (-(CASE WHEN $at_ms > coalesce(r.last_interaction_at, r.created_at).epochMillis
                             THEN $at_ms - coalesce(r.last_interaction_at, r.created_at).epochMillis
                             ELSE 0 END) / $half_life_ms)) / 10) AS score
RETURN [n IN nodes(p)[1..-1] | n.member_id] AS intermediaries, score
ORDER BY score DESC
LIMIT 5
"""

SHORTEST: LiteralString = """
MATCH (a:Member {member_id: $source}), (b:Member {member_id: $target})
MATCH p = shortestPath((a)-[:KNOWS*..3]-(b))
RETURN length(p) AS hops
"""

PROFILE_STRAIGHTFORWARD: LiteralString = "PROFILE " + STRAIGHTFORWARD


@dataclass(frozen=True)
class Timed:
    seconds: float  # the timeout's value when it timed out
    timed_out: bool
    rows: list[dict[str, Any]]


def parameters(source: str, target: str) -> dict[str, Any]:
    return {
        "source": source,
        "target": target,
        "unrated": 5,
        "at_ms": int(AT.timestamp() * 1000),
        "half_life_ms": 180.0 * 86_400_000,
    }


async def run(
    driver: AsyncDriver, cypher: LiteralString, source: str, target: str, limit_seconds: float
) -> Timed:
    started = time.perf_counter()
    try:
        records, _, _ = await driver.execute_query(
            Query(cypher, timeout=limit_seconds),
            parameters(source, target),
            database_="neo4j",
            routing_=RoutingControl.READ,
        )
    except (ClientError, TransientError) as exc:
        if "Timeout" in (exc.code or "") or "TimedOut" in (exc.code or ""):
            return Timed(limit_seconds, True, [])
        raise
    return Timed(time.perf_counter() - started, False, [r.data() for r in records])
