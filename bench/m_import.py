"""Measurement 4: the generated network bulk-loaded into Neo4j by the project's own
importer (``services.graph.importers.plain_csv.import_csv``, what ``rapport import csv``
runs), with its default batch size. The rate includes reading and checking the CSV, as a
user of the command sees it."""

import time
from pathlib import Path
from typing import Any

from services.graph.database import Graph
from services.graph.importers import queries
from services.graph.importers.plain_csv import import_csv
from services.graph.importers.rebuild import wipe
from services.graph.importers.writer import BATCH_SIZE


async def counts(graph: Graph) -> dict[str, int]:
    rows = await graph.read(queries.COUNT_GRAPH)
    return {"members": rows[0]["members"], "connections": rows[0]["connections"]}


async def measure_import(graph: Graph, data: Path) -> dict[str, Any]:
    before = await counts(graph)
    wiped_seconds = None
    if before["members"] or before["connections"]:
        # Not measured: a previous run's graph (KEEP_STACK=1, or a failed run) goes first.
        started = time.perf_counter()
        await wipe(graph)
        wiped_seconds = round(time.perf_counter() - started, 1)
    members, connections = await import_csv(graph, data / "members.csv", data / "connections.csv")
    return {
        "batch_size": BATCH_SIZE,
        "members": {"rows": members.rows, "seconds": round(members.seconds, 1)},
        "connections": {"rows": connections.rows, "seconds": round(connections.seconds, 1)},
        "connections_per_second": round(connections.rate),
        "in_neo4j_after": await counts(graph),
        "wiped_previous_graph_seconds": wiped_seconds,
    }
