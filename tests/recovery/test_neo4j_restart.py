"""Neo4j killed (SIGKILL) and brought back: meanwhile the graph service answers 503
problems with Retry-After (never 500) and /readyz names Neo4j; it warms Neo4j up again
and is ready by itself soon after Neo4j answers."""

import time
import uuid

import httpx
import pytest

from services.graph.database import Graph
from tests.conftest import eventually
from tests.recovery.conftest import READY_WITHIN_SECONDS, stack

pytestmark = pytest.mark.faults


async def test_neo4j_killed_gives_503_then_the_graph_service_is_ready_by_itself(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    connections = f"/internal/v1/members/{uuid.uuid4()}/connections"
    assert (await graph_client.get("/readyz")).status_code == 200
    assert (await graph_client.get(connections)).status_code == 200

    await stack("kill", "neo4j")
    # Its supervisor would start it again within a second or two (the API master's
    # test covers that); stopped, it stays away while the outage is checked.
    await stack("stop", "neo4j")
    try:
        down = await graph_client.get(connections)
        assert down.status_code == 503, down.text
        assert down.headers["Retry-After"]
        assert down.json()["type"].endswith("/graph-store-unavailable")
        not_ready = await graph_client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["neo4j"]["status"] == "down"
    finally:
        await stack("start", "neo4j")  # returns once Bolt answers
    answering_since = time.monotonic()
    statuses: list[int] = []

    async def ready() -> bool:
        if (await graph_client.get("/readyz")).status_code == 200:
            return True
        statuses.append((await graph_client.get(connections)).status_code)
        return False

    await eventually(ready, within=READY_WITHIN_SECONDS, interval=0.2)
    ready_after = time.monotonic() - answering_since

    assert (await graph_client.get(connections)).status_code == 200
    assert set(statuses) <= {200, 503}, statuses
    print(f"graph service ready {ready_after:.1f} s after neo4j answered on Bolt")
