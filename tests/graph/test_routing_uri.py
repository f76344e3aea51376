"""The graph service through a routing URI (``neo4j://``), as against a Neo4j cluster:
the driver fetches a routing table and sends each read to a server that may serve
reads, each write to the leader. The test Neo4j is one server, which routes to itself;
what this checks is that every read and write of the service works through routing, and
that reads really run in read access mode (a cluster sends those to its secondaries)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from neo4j import AsyncNeo4jDriver
from neo4j.exceptions import ClientError

from rapport_common.settings import Settings
from services.graph.database import Graph
from services.graph.main import create_app
from tests.graph.builders import created, get_json, member_event, new_id


@pytest.fixture
def routing_settings(settings: Settings) -> Settings:
    address = settings.neo4j.uri.partition("://")[2]
    neo4j = settings.neo4j.model_copy(update={"uri": f"neo4j://{address}"})
    return settings.model_copy(update={"neo4j": neo4j})


@pytest.fixture
async def routed_app(routing_settings: Settings, graph: Graph) -> AsyncIterator[FastAPI]:
    app = create_app(routing_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def routed_client(
    routing_settings: Settings, routed_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=routed_app),
        base_url="http://graph",
        headers=routing_settings.graph.auth_headers(),
    ) as client:
        yield client


async def test_the_service_projects_events_and_answers_paths_through_a_routing_uri(
    routed_app: FastAPI, routed_client: httpx.AsyncClient
) -> None:
    graph: Graph = routed_app.state.graph
    assert isinstance(graph.driver, AsyncNeo4jDriver), "neo4j:// must give a routing driver"
    source, middle, target = new_id(), new_id(), new_id()
    events = [
        member_event(1, source, "Ada"),
        member_event(2, middle, "Grace"),
        member_event(3, target, "Alan"),
        created(4, source, middle, inviter_rating=9, invitee_rating=8),
        created(5, middle, target, inviter_rating=8, invitee_rating=9),
    ]
    for event in events:
        response = await routed_client.post(
            "/internal/v1/events", json=event.model_dump(mode="json")
        )
        assert response.status_code == 200, response.text

    degree = await get_json(routed_client, "/internal/v1/degree", source=source, target=target)
    paths = await get_json(routed_client, "/internal/v1/paths", source=source, target=target)

    assert degree["degree"] == 2
    assert [path["intermediaries"] for path in paths["paths"]] == [[middle]]
    ready = await routed_client.get("/readyz")
    assert ready.status_code == 200, ready.text


async def test_reads_run_in_read_access_mode_so_a_cluster_may_serve_them_from_a_secondary(
    routed_app: FastAPI,
) -> None:
    graph: Graph = routed_app.state.graph

    with pytest.raises(ClientError) as refused:
        await graph.read("CREATE (probe:RoutingProbe) RETURN 1 AS created")

    assert "AccessMode" in (refused.value.code or "")
    assert await graph.read("MATCH (probe:RoutingProbe) RETURN count(probe) AS n") == [{"n": 0}]
    assert await graph.write("CREATE (probe:RoutingProbe) RETURN 1 AS created") == [{"created": 1}]
