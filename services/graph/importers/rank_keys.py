"""Rank keys (``since_ms``, ``rank_key`` on every ``KNOWS``; rapport_common/strength.py,
"The rank key") for a graph written before they were stored, or after a change of the
strength settings. A one-off command, run with the settings the graph service runs with:

    python -m services.graph.importers.rank_keys

Every writer stores them as it writes a connection (the projection, the importers, and
so a rebuild); a graph without them is searched correctly, only without the saving (a
link without a key is ranked from its inputs). A graph whose keys are of another model
is searched from the inputs too, since that model is recorded (``RankModel``): this
rewrites every key for the model in the settings, in keyset pages of members (each
relationship once, from its start node), then forgets the other models. Safe while the
projection writes with the same settings: both derive the key from the relationship's
properties under its write lock. Run it once every graph service runs the new settings
(docs/graph.md). Safe to rerun.
"""

import asyncio
import time
from typing import LiteralString

from rapport_common.settings import StrengthSettings, get_settings
from rapport_common.strength import cypher_store_rank, rank_parameters
from services.graph import queries as schema
from services.graph.database import Graph, create_driver

PAGE_MEMBERS = 1_000
PATIENCE_SECONDS = 120.0

REKEY_PAGE: LiteralString = (
    """
MATCH (m:Member) WHERE m.member_id > $after
WITH m ORDER BY m.member_id LIMIT $limit
CALL (m) {
  MATCH (m)-[r:KNOWS]->()
  SET """
    + cypher_store_rank("r")
    + """
  RETURN count(*) AS keyed
}
RETURN max(m.member_id) AS last, count(m) AS seen, sum(keyed) AS keyed
"""
)

FORGET_OTHER_MODELS: LiteralString = """
MATCH (model:RankModel)
WHERE model.half_life_ms <> $half_life_ms OR model.unrated <> $unrated
DELETE model
"""


async def rekey(graph: Graph, strength: StrengthSettings, page: int = PAGE_MEMBERS) -> int:
    """Writes every ``KNOWS``'s rank key for ``strength``; returns how many."""
    graph = graph.with_patience(PATIENCE_SECONDS)
    rank = rank_parameters(strength)
    await graph.write(schema.RECORD_RANK_MODEL, **rank)
    after, keyed = "", 0
    while True:
        [row] = await graph.write(REKEY_PAGE, after=after, limit=page, **rank)
        keyed += int(row["keyed"])
        if row["seen"] < page:
            break
        after = row["last"]
    await graph.write(FORGET_OTHER_MODELS, **rank)
    return keyed


async def _main() -> None:
    settings = get_settings()
    driver = create_driver(settings.neo4j)
    started = time.perf_counter()
    try:
        keyed = await rekey(Graph(driver, settings.neo4j), settings.strength)
    finally:
        await driver.close()
    print(f"rank keys: {keyed:,} connections in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    asyncio.run(_main())
