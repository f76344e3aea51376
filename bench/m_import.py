"""Measurement 4: the generated network bulk-loaded into Neo4j, two ways, on the same
files:

- offline, by ``neo4j-admin database import full`` into the stopped database, as
  ``stack.sh import-offline`` does it (``services.graph.importers.offline``): the CSV
  converted to the tool's files, Neo4j stopped, the tool, Neo4j started, the
  constraints created and populated, each timed;
- online, by the project's importer (``services.graph.importers.plain_csv.import_csv``,
  what ``rapport import csv`` runs) with its default batch size, into an empty graph
  (the offline one wiped first, not timed); the rate includes reading the CSV, as a user
  of the command sees it. Left out where the scale says so (1m).

Offline goes first: it replaces whatever graph the bench Neo4j held (another size's
network), which a Cypher wipe would take minutes over at 25M connections. Both graphs'
fingerprints (counts and sums of every property) are compared.
"""

import asyncio
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any, LiteralString

from neo4j import Query, RoutingControl

from bench.config import ROOT, Scale
from services.graph.database import Graph
from services.graph.importers import queries
from services.graph.importers.offline import (
    admin_import,
    create_schema,
    csv_connections,
    write_admin_files,
)
from services.graph.importers.plain_csv import _members, import_csv
from services.graph.importers.rebuild import wipe
from services.graph.importers.writer import BATCH_SIZE

STACK = ROOT / "deploy" / "local" / "stack.sh"
STAGING = ROOT / ".local" / "bench" / "offline-import"
RESTART_PATIENCE_SECONDS = 300.0
FINGERPRINT_TIMEOUT_SECONDS = 120.0

FINGERPRINT: LiteralString = """
CALL () {
  MATCH (m:Member)
  RETURN count(m) AS members, count(m.name) AS named,
         sum(CASE WHEN m.is_recruiter THEN 1 ELSE 0 END) AS recruiters,
         sum(CASE WHEN m.allows_introductions THEN 1 ELSE 0 END) AS allowing
}
CALL () {
  MATCH (low:Member)-[r:KNOWS]->(high:Member)
  RETURN count(r) AS connections,
         sum(CASE WHEN low.member_id < high.member_id THEN 1 ELSE 0 END) AS low_to_high,
         sum(coalesce(r.rating_low, 0)) AS rating_low_sum,
         sum(coalesce(r.rating_high, 0)) AS rating_high_sum,
         count(r.rating_low) + count(r.rating_high) AS rated_sides,
         count(DISTINCT r.how_we_met) AS how_we_met_kinds,
         sum(r.created_at.epochMillis % 1000000007) AS created_checksum,
         sum(coalesce(r.last_interaction_at.epochMillis, 0) % 1000000007) AS last_checksum,
         count(r.last_interaction_at) AS with_last_interaction
}
RETURN *
"""


async def counts(graph: Graph) -> dict[str, int]:
    rows = await graph.read(queries.COUNT_GRAPH)
    return {"members": rows[0]["members"], "connections": rows[0]["connections"]}


async def fingerprint(graph: Graph) -> dict[str, int]:
    """A scan of the whole graph: seconds at 100k, past the service's query timeout."""
    records, _, _ = await graph.driver.execute_query(
        Query(FINGERPRINT, timeout=FINGERPRINT_TIMEOUT_SECONDS),
        database_=graph.database,
        routing_=RoutingControl.READ,
    )
    return dict(records[0])


def _stack(*args: str, scale: Scale) -> float:
    """``stack.sh ARGS`` on the bench stack, with the scale's Neo4j memory; seconds."""
    started = time.perf_counter()
    env = {
        **os.environ,
        "NEO4J_HEAP": scale.neo4j_heap,
        "NEO4J_PAGECACHE_MB": str(scale.neo4j_pagecache_mb),
    }
    subprocess.run(["bash", str(STACK), *args], env=env, check=True)  # noqa: S603, S607
    return time.perf_counter() - started


def _admin_peak_mb(log: Path) -> float | None:
    """The tool's own report of its peak memory (heap and off-heap). The children's
    ``ru_maxrss`` would not do: a child starts from its parent's high-water mark."""
    found = re.search(r"Peak memory usage: ([\d.]+)(GiB|MiB)", log.read_text(errors="replace"))
    if found is None:
        return None
    return round(float(found[1]) * (1024 if found[2] == "GiB" else 1), 1)


async def measure_offline(graph: Graph, data: Path, scale: Scale) -> dict[str, Any]:
    phases: dict[str, float] = {}
    members_csv, connections_csv = data / "members.csv", data / "connections.csv"
    STAGING.mkdir(parents=True, exist_ok=True)
    # Converted while Neo4j still runs, as stack.sh import-offline does it (--stop-first).
    files = await asyncio.to_thread(
        write_admin_files,
        _members(members_csv),
        lambda: csv_connections(connections_csv),
        STAGING,
    )
    phases["convert"] = files.seconds
    phases["neo4j_stop"] = await asyncio.to_thread(_stack, "stop", "neo4j", scale=scale)
    home = ROOT / ".local" / "bench" / "neo4j"
    phases["neo4j_admin"] = await asyncio.to_thread(admin_import, files, home)
    admin_peak = _admin_peak_mb(STAGING / "neo4j-admin.log")
    for name in ("members.csv", "bare_members.csv", "knows.csv"):
        (STAGING / name).unlink()
    phases["neo4j_start"] = await asyncio.to_thread(_stack, "start", "neo4j", scale=scale)
    started = time.perf_counter()
    patient = graph.with_patience(RESTART_PATIENCE_SECONDS)
    patient.schema_ready = patient.warm = graph.schema_ready = graph.warm = False
    await create_schema(patient)
    phases["schema"] = time.perf_counter() - started
    total = sum(phases.values())
    return {
        "phases_seconds": {name: round(seconds, 1) for name, seconds in phases.items()},
        "seconds": round(total, 1),
        # Without Neo4j: from stopping it to a usable graph (the conversion ran before).
        "downtime_seconds": round(total - phases["convert"], 1),
        "connections": files.connections,
        "members": files.members + files.bare_members,
        # The tool's own rate, and the command's from stopping Neo4j to a usable graph.
        "admin_connections_per_second": round(files.connections / phases["neo4j_admin"]),
        "connections_per_second": round(files.connections / total),
        "convert_rows_per_second": round(files.rows / files.seconds),
        "admin_peak_rss_mb": admin_peak,
        "in_neo4j_after": await counts(graph),
    }


async def measure_online(graph: Graph, data: Path) -> dict[str, Any]:
    started = time.perf_counter()
    await wipe(graph)  # not measured: the offline import's graph goes first
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


async def measure_import(graph: Graph, data: Path, scale: Scale) -> dict[str, Any]:
    offline = await measure_offline(graph, data, scale)
    if not scale.online_import:
        return {"offline": offline}
    offline["fingerprint"] = await fingerprint(graph)
    online = await measure_online(graph, data)
    online["fingerprint"] = await fingerprint(graph)
    return online | {
        "offline": offline,
        "offline_same_as_online": offline["fingerprint"] == online["fingerprint"],
        "offline_to_online": round(
            offline["connections_per_second"] / online["connections_per_second"], 2
        ),
    }
