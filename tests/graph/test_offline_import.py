"""The offline import (neo4j-admin writing a stopped database) leaves the graph the online
importer leaves: every node and relationship with its properties and their types, the
same constraints, and the same answers from the graph service's path queries.

The offline side runs in a Neo4j of the test's own (its own home folder and port, started
from the same jars as the stack's), so the suite's Neo4j keeps running throughout.
"""

import asyncio
import os
import random
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from rapport_common.settings import Settings
from services.graph.database import Graph, create_driver
from services.graph.importers.ldbc import import_ldbc, member_id
from services.graph.importers.offline import (
    create_schema,
    import_csv_offline,
    import_ldbc_offline,
)
from services.graph.importers.plain_csv import import_csv
from services.graph.main import create_app as create_graph_app
from tests.graph.builders import get_json, snapshot
from tests.processes import free_port

LDBC_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "ldbc-sf0.003"
LAUNCHER = Path(__file__).resolve().parents[2] / "deploy" / "local" / "neo4j" / "target"
CONSTRAINTS = "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties RETURN *"
START_WITHIN_SECONDS = 240.0
# As deploy/local/stack.sh runs it, with a small heap and page cache.
JAVA_LAUNCHER = [
    "java", "-Xms128m", "-Xmx512m", "-cp", f"{LAUNCHER}/classes:{LAUNCHER}/lib/*",
    "rapport.Neo4jLauncher",
]  # fmt: skip


class OfflineNeo4j:
    """A Neo4j of the test's own; ``load`` stops it, imports offline, starts it again."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.log = home / "launcher.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.loaded: str | None = None

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    def load(self, name: str, importing: Callable[[Path], object]) -> str:
        if self.loaded != name:
            self.stop()
            self.loaded = None
            importing(self.home)
            self.start()
            self.loaded = name
        return self.uri

    def start(self) -> None:
        env = {
            **os.environ,
            "NEO4J_HOME": str(self.home),
            "NEO4J_BOLT_PORT": str(self.port),
            "NEO4J_PAGECACHE_MB": "64",
        }
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 (the stack's own launcher)
                JAVA_LAUNCHER,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_WITHIN_SECONDS
        while b"NEO4J READY" not in self.log.read_bytes():
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the test's Neo4j did not start in time"
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # a clean shutdown: the next import reopens the home
            self.process.wait(timeout=120)
        self.process = None


@pytest.fixture(scope="module")
def offline_neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineNeo4j]:
    neo4j = OfflineNeo4j(tmp_path_factory.mktemp("offline-neo4j"))
    try:
        yield neo4j
    finally:
        neo4j.stop()


@asynccontextmanager
async def graph_at(settings: Settings, uri: str) -> AsyncIterator[Graph]:
    neo4j = settings.neo4j.model_copy(update={"uri": uri})
    driver = create_driver(neo4j)
    try:
        yield Graph(driver, neo4j)
    finally:
        await driver.close()


async def _constraints(graph: Graph) -> list[str]:
    return sorted(str(sorted(row.items())) for row in await graph.read(CONSTRAINTS))


async def _load_ldbc_offline(neo4j: OfflineNeo4j) -> str:
    return await asyncio.to_thread(
        neo4j.load, "ldbc", lambda home: import_ldbc_offline(LDBC_SAMPLE, home)
    )


async def test_ldbc_offline_import_writes_the_online_importers_graph(
    graph: Graph, settings: Settings, offline_neo4j: OfflineNeo4j
) -> None:
    await import_ldbc(graph, LDBC_SAMPLE)
    uri = await _load_ldbc_offline(offline_neo4j)

    async with graph_at(settings, uri) as offline:
        names = await create_schema(offline)
        offline_snapshot = await snapshot(offline)
        offline_constraints = await _constraints(offline)

    online_snapshot = await snapshot(graph)
    assert len(online_snapshot) == 222 + 825 + 1  # members, connections, the keys' model
    assert offline_snapshot == online_snapshot
    assert "member_id_unique" in names
    assert offline_constraints == await _constraints(graph)


async def test_paths_are_the_same_after_the_offline_import(
    graph: Graph,
    graph_client: httpx.AsyncClient,
    settings: Settings,
    offline_neo4j: OfflineNeo4j,
) -> None:
    await import_ldbc(graph, LDBC_SAMPLE)
    uri = await _load_ldbc_offline(offline_neo4j)
    offline_settings = settings.model_copy(
        update={"neo4j": settings.neo4j.model_copy(update={"uri": uri})}
    )
    app = create_graph_app(offline_settings)
    rng = random.Random(7)
    with (LDBC_SAMPLE / "person_0_0.csv").open() as persons:
        members = sorted(member_id(line.split("|")[0]) for line in list(persons)[1:])
    pairs = [rng.sample(members, 2) for _ in range(80)]
    with_paths = 0

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://graph",
            headers=settings.graph.auth_headers(),
        ) as offline_client,
    ):
        for source, target in pairs:
            query = {"source": source, "target": target, "limit": 20, "at": "2013-01-01T00:00:00Z"}
            online = await get_json(graph_client, "/internal/v1/paths", **query)
            assert await get_json(offline_client, "/internal/v1/paths", **query) == online
            with_paths += bool(online["paths"])

    assert with_paths > 20


A, B, C = (f"00000000-0000-4000-8000-00000000000{end}" for end in "abc")
D_UPPER, BARE = "00000000-0000-4000-8000-00000000000D", "00000000-0000-4000-8000-0000000000ff"
MEMBERS_CSV = f"""member_id,name,is_recruiter,allows_introductions
{A},"Ada, ""the first"" Lovelace",true,false
{B},,false,
{C},Grace Hopper,,true
{A},Ada Lovelace,true,true
{D_UPPER},Dan Ünal,false,true
"""
# A pair listed twice (the other way round: its last row wins), unrated sides, no last
# interaction, times with an offset, a space, microseconds and a fraction, before 1970,
# a rating written "08", upper-case ids, and a member named only by a connection.
CONNECTIONS_CSV = "\n".join(
    [
        "member_id,other_member_id,member_rating,other_rating,how_we_met,connected_at,"
        "last_interaction_at",
        f"{A},{B},7,,coffee,2020-01-02T03:04:05,",
        f"{C},{A},10,3,meal,2021-05-06T07:08:09.123456+02:00,2025-01-01T00:00:00Z",
        f"{B},{C},,,beer,2019-12-31 23:59:59,2024-06-01T12:00:00.5",
        f"{B},{A.upper()},2,9,event,2022-02-02T02:02:02,2023-03-03T03:03:03",
        f"{A},{BARE},5,5,known_online,2018-01-01T00:00:00.000,",
        f"{D_UPPER.lower()},{C},08,1,worked_together,1969-07-20T20:17:40,",
    ]
)


async def test_plain_csv_offline_import_keeps_the_online_rules(
    graph: Graph, settings: Settings, offline_neo4j: OfflineNeo4j, tmp_path: Path
) -> None:
    members, connections = tmp_path / "members.csv", tmp_path / "connections.csv"
    members.write_text(MEMBERS_CSV, encoding="utf-8")
    connections.write_text(CONNECTIONS_CSV, encoding="utf-8")
    await import_csv(graph, members, connections)
    staging, staged = tmp_path / "staging", []
    staging.mkdir()

    def before_admin() -> None:  # where stack.sh stops Neo4j: the input is converted by then
        staged.append(sorted(path.name for path in staging.rglob("*.csv")))

    uri = await asyncio.to_thread(
        offline_neo4j.load,
        "edge cases",
        lambda home: import_csv_offline(
            members, connections, home, staging=staging, before_admin=before_admin
        ),
    )
    async with graph_at(settings, uri) as offline:
        await create_schema(offline)
        offline_snapshot = await snapshot(offline)

    online_snapshot = await snapshot(graph)
    assert [row[0] for row in online_snapshot].count("link") == 5
    # Five members (one of them bare) and the model of the rank keys.
    assert [row[0] for row in online_snapshot].count("node") == 6
    assert offline_snapshot == online_snapshot
    assert staged == [["bare_members.csv", "knows.csv", "members.csv", "rank_model.csv"]]
