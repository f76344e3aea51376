"""One bench run: the data, the six measurements in order, the result file and table.

    RAPPORT_STACK=bench bash deploy/local/stack.sh exec .venv/bin/python -m bench --scale 10k

Expects the bench stack's stores (``stack.sh up --infra``); starts and stops every
service itself. Order: import (4), paths (1), then with the API up: the notifier (3),
the API against the bare endpoint (2), member search (6); peak memory (5) is read as
each process stops.
"""

import argparse
import asyncio
import gc
import json
import logging
import os
import resource
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, LiteralString

from bench import config, stores
from bench.config import DATA, RESULTS, SCALES, SEED, WORK, Scale
from bench.generate import dataset
from bench.m_api import ApiBench
from bench.m_import import counts, measure_import
from bench.m_notifier import NotifierBench
from bench.m_paths import PathsBench
from bench.m_search import SearchBench
from bench.machine import CpuMeter, machine, versions
from bench.members import Member, register
from bench.network import load
from bench.processes import Processes, http_ready, peak_rss_mb, port_open
from bench.report import table
from rapport_common.settings import Settings, get_settings
from services.graph.database import Graph, create_driver

STEPS = ("import", "paths", "notifier", "api", "search")


def say(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


MISSING_DEGREES: LiteralString = (
    "MATCH (m:Member) WHERE m.degree IS NULL RETURN count(m) AS missing"
)


async def degrees_filled(graph: Graph) -> None:
    """Waits for the graph service's background fill of members' ``degree``: after an
    import no member has one (searches count such a member's relationships meanwhile,
    about 5% more work at 100k), and a running graph has them all once its first fill
    is done, so the paths step measures that steady state."""
    deadline = time.monotonic() + config.DEGREE_FILL_SECONDS
    while (missing := (await graph.read(MISSING_DEGREES))[0]["missing"]) > 0:
        if time.monotonic() > deadline:
            raise SystemExit(f"{missing:,} members still without a degree; see the graph log")
        await asyncio.sleep(1.0)


# Every member, its relationships and their properties, a page of members at a time
# (each page one query, within the transaction timeout).
READ_A_PAGE: LiteralString = """
MATCH (m:Member) WHERE m.member_id > $after
WITH m ORDER BY m.member_id LIMIT $limit
OPTIONAL MATCH (m)-[r:KNOWS]-()
WITH m, count(properties(r)) AS relationships
RETURN max(m.member_id) AS last, count(m) AS members, sum(relationships) AS relationships
"""


async def read_the_store_once(graph: Graph) -> None:
    """Reads the whole graph once, so the paths step meets Neo4j's page cache as a server
    that has been running meets it, at every scale: at 100k the online import has just
    written every page through it, but at 1m (offline import only, Neo4j started on an
    empty page cache) the measured pairs' neighbourhoods were read from disk the first
    time, the c=1 p99 (83.8 ms) 1.6x the public endpoint's run on the same pairs later
    (54.0 ms): bench/README.md, "Findings", session 24."""
    after = ""
    while True:
        page = (await graph.read(READ_A_PAGE, after=after, limit=10_000))[0]
        if not page["members"]:
            return
        after = page["last"]


class Bench:
    def __init__(self, scale: Scale, settings: Settings, only: set[str]) -> None:
        self.scale, self.settings, self.only = scale, settings, only
        self.processes = Processes()
        self.results: dict[str, Any] = {"scale": scale.name, "seed": SEED, "noise": {}}
        self.memory: dict[str, Any] = {}
        self.data = DATA

    async def measured(self, name: str, work: Any) -> Any:
        """Await ``work`` with the CPU meter running; keeps what else used the machine."""
        meter = CpuMeter()
        meter.start()
        result = await work
        self.results["noise"][name] = meter.stop()
        return result

    async def run(self) -> dict[str, Any]:
        scale, settings = self.scale, self.settings
        self.results |= {"started_at": datetime.now(UTC).isoformat(), "machine": machine()}
        self.results["workers"] = {"api": settings.api.workers, "graph": settings.graph.workers}
        self.results["versions"] = versions() | await stores.server_versions(settings)
        say(f"data: {scale.members:,} members, about {scale.connections:,} connections")
        started = time.perf_counter()
        data, manifest = await asyncio.to_thread(dataset, scale, SEED, DATA)
        self.phase("data", started)
        self.data = data
        self.results["sizes"] = asdict(manifest) | {"files": str(data)}
        await stores.reset(settings)
        driver = create_driver(settings.neo4j)
        try:
            graph = Graph(driver, settings.neo4j)
            components = await graph.read("CALL dbms.components() YIELD versions RETURN versions")
            self.results["versions"]["neo4j_server"] = components[0]["versions"][0]
            if "import" in self.only:
                say("4/6 bulk import into Neo4j: offline (neo4j-admin), then online")
                started = time.perf_counter()
                imported = await self.measured("import", measure_import(graph, data, scale))
                self.phase("import", started)
                self.results["import"] = imported
                offline = imported["offline"]
                say(
                    f"   offline {offline['connections_per_second']:,} connections/s "
                    f"(neo4j-admin alone {offline['admin_connections_per_second']:,}/s), "
                    f"online {imported.get('connections_per_second', '-')}/s"
                )
            elif (await counts(graph))["connections"] != manifest.connections:
                raise SystemExit("without the import, Neo4j must already hold this network")
            if "paths" in self.only:
                started = time.perf_counter()
                await self.paths(data, driver)
                self.phase("paths", started)
            if self.only & {"notifier", "api", "search"}:
                started = time.perf_counter()
                await self.services()
                self.phase("services", started)
        finally:
            await self.processes.stop_all()
            await driver.close()
            partial = WORK / f"{scale.name}.partial.json"
            partial.write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        pid_file = config.NEO4J_CHILD_FILE
        pid = (pid_file.read_text().split() if pid_file.exists() else None) or ["-"]
        self.memory["neo4j"] = {"sum": peak_rss_mb(int(pid[0])) if pid[0].isdigit() else None}
        # The generator, the network read back for the paths and the offline conversion.
        self.memory["bench"] = {
            "sum": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        }
        self.results["memory_peak_rss_mb"] = self.memory
        return self.results

    def phase(self, name: str, started: float) -> None:
        self.results.setdefault("phases_seconds", {})[name] = round(
            time.perf_counter() - started, 1
        )
        say(f"   {name}: {self.results['phases_seconds'][name]:.0f} s")

    async def paths(self, data: Path, driver: Any) -> None:
        say("1/6 introduction paths: reading the generated network back")
        network = await asyncio.to_thread(load, data / "members.csv", data / "connections.csv")
        gc.freeze()  # millions of long-lived objects: keep the collector off them
        say("1/6 introduction paths: graph service against the reference queries")
        await self.graph_service()
        started = time.perf_counter()
        graph = Graph(driver, self.settings.neo4j)
        await degrees_filled(graph)
        self.phase("degrees filled", started)
        started = time.perf_counter()
        await read_the_store_once(graph.with_patience(25.0))
        self.phase("store read once", started)
        bench = PathsBench(self.scale, network, driver)
        await self.paths_api(bench, data)
        self.results["paths"] = await self.measured("paths", bench.measure())
        await self.stop("api")
        await stores.reset(self.settings)  # the members it signed in: later steps start empty
        del bench, network
        gc.unfreeze()
        gc.collect()

    async def paths_api(self, bench: PathsBench, data: Path) -> None:
        """For the public paths endpoint: its members signed in, then the API started."""
        say("1/6 introduction paths: the network's members into PostgreSQL (not timed)")
        await bench.sign_in(self.settings, data)
        await self.processes.start(
            "api",
            self.processes.uvicorn(
                "services.api.main:build", config.API_PORT, self.settings.api.workers
            ),
            http_ready(f"http://127.0.0.1:{config.API_PORT}/readyz"),
        )

    async def graph_service(self) -> None:
        if "graph" not in self.processes.started:
            await self.processes.start(
                "graph",
                self.processes.uvicorn(
                    "services.graph.main:build", config.GRAPH_PORT, self.settings.graph.workers
                ),
                http_ready(f"http://127.0.0.1:{config.GRAPH_PORT}/readyz"),
            )

    async def services(self) -> None:
        await self.graph_service()  # the API's readiness asks for it
        capture = WORK / "smtp-captured.txt"
        capture.unlink(missing_ok=True)
        await self.processes.start(
            "smtp",
            self.processes.python(
                "-m", "bench.smtp_capture", "--port", str(config.SMTP_PORT), "--out", str(capture)
            ),
            port_open(config.SMTP_PORT),
        )
        await self.processes.start(
            "api",
            self.processes.uvicorn(
                "services.api.main:build", config.API_PORT, self.settings.api.workers
            ),
            http_ready(f"http://127.0.0.1:{config.API_PORT}/readyz"),
        )
        say(f"   registering {config.API_MEMBERS} members through the API (argon2, not timed)")
        registered = await register(config.API_MEMBERS, self.settings.auth)
        await stores.verify_emails(self.settings)
        members = registered.members
        self.results["registration"] = {
            "members": len(members),
            "seconds": round(registered.seconds, 1),
            "sign_in_401_right_after_registering": registered.sign_in_retries,
        }

        if "notifier" in self.only:
            await self.notifier(members, capture)
        if "api" in self.only:
            say(f"2/6 public API: invitation mix at concurrency {config.API_CONCURRENCY}")
            await self.reference()
            self.results["api"] = await self.measured("api", ApiBench(members).measure())
        if "search" in self.only:
            await self.search()
        for name in ("api", "graph", "reference", "smtp"):
            await self.stop(name)

    async def reference(self) -> None:
        """The bare FastAPI + asyncpg insert (``reference_app.py``), the baseline of the
        ratios in measurements 2 and 3."""
        await self.processes.start(
            "reference",
            self.processes.uvicorn(
                "bench.reference_app:build", config.REFERENCE_PORT, self.settings.api.workers
            ),
            http_ready(f"http://127.0.0.1:{config.REFERENCE_PORT}/readyz"),
        )

    async def search(self) -> None:
        say("6/6 member search: the network into PostgreSQL (not timed)")
        bench = SearchBench(self.settings, self.data, self.scale)
        started = time.perf_counter()
        preparation = await bench.prepare()
        self.phase("search_preparation", started)
        say(f"6/6 member search: {preparation['members']:,} members, c=1 and c=16")
        measured = await self.measured("search", bench.measure())
        self.results["search"] = measured | {"preparation": preparation}

    async def notifier(self, members: list[Member], capture: Path) -> None:
        notifier = NotifierBench(self.settings, members, capture)
        preparation = await notifier.prepare()
        say("3/6 notifier: the bare insert first, for the offered rate")
        rate = await notifier.bare_insert(self.reference, lambda: self.stop("reference"))
        say(f"3/6 notifier: {config.DECLINES:,} declines at {rate:.1f}/s")

        async def start_notifier() -> None:
            await self.processes.start(
                "notifier",
                self.processes.python("-m", "services.notifier"),
                http_ready(f"http://127.0.0.1:{config.NOTIFIER_HEALTH_PORT}/readyz"),
            )

        notes = await self.measured("notifier", notifier.measure(start_notifier))
        say(f"3/6 notifier: its capacity, {config.DRAIN_DECLINES:,} declines drained")
        capacity = await self.measured(
            "notifier_capacity", notifier.drain(start_notifier, lambda: self.stop("notifier"))
        )
        self.results["notifier"] = notes | {"capacity": capacity, "preparation": preparation}
        await self.stop("notifier")

    async def stop(self, name: str) -> None:
        stopped = await self.processes.stop(name)
        if stopped is not None and name in ("api", "graph", "notifier", "reference"):
            self.memory[name] = stopped.peak_rss_mb


def write(results: dict[str, Any], complete: bool) -> Path:
    """bench/results/<scale>.json for a complete run; a partial one (``--only``) goes to
    the bench stack's folder, so it never replaces the published figures."""
    folder = RESULTS if complete else WORK
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{results['scale']}{'' if complete else '.only'}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    temporary.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Rapport's benchmarks on the bench stack.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="100k")
    parser.add_argument(
        "--only",
        help="for working on the bench: a comma-separated subset of "
        f"{', '.join(STEPS)} (without import, Neo4j must already hold the network); "
        "default: the scale's steps (1m: import, paths, search)",
    )
    args = parser.parse_args()
    scale = SCALES[args.scale]
    only = set(args.only.split(",")) if args.only else set(scale.steps)
    if not only <= set(STEPS):
        parser.error(f"--only takes {', '.join(STEPS)}")
    # Neo4j's notes on queries (unknown labels before the import, the naive query's
    # warnings) would bury the progress lines.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    started = time.monotonic()
    results = asyncio.run(Bench(scale, get_settings(), only).run())
    results["finished_at"] = datetime.now(UTC).isoformat()
    results["bench_seconds"] = round(time.monotonic() - started, 1)
    make_started = os.environ.get("BENCH_MAKE_STARTED")
    if make_started:
        results["make_seconds_until_results"] = round(time.time() - float(make_started), 1)
    path = write(results, only == set(scale.steps))
    print()
    print(table(results))
    print(f"\n{path} ({results['bench_seconds']:.0f} s)")
