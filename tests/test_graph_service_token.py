"""The graph service's internal API answers only callers that present the shared service
token, and the API and the notifier present it."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.settings import (
    AuthSettings,
    EmailInvitationSettings,
    GraphServiceSettings,
    PostgresSettings,
    Settings,
    WebhookSettings,
)
from services.graph.database import Graph
from services.notifier.graph_projection import project_to_graph
from tests.factories import sign_in_all
from tests.graph.builders import member_event, new_id


@pytest.fixture
async def bare_graph_client(graph_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The in-process graph service, reached without any default header."""
    transport = httpx.ASGITransport(app=graph_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://graph") as client:
        yield client


def _degree_query() -> dict[str, str]:
    return {"source": new_id(), "target": new_id()}


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"].endswith("/service-token-invalid")


async def test_an_internal_read_without_the_token_is_401(
    bare_graph_client: httpx.AsyncClient,
) -> None:
    _assert_refused(await bare_graph_client.get("/internal/v1/degree", params=_degree_query()))


async def test_an_internal_read_with_a_wrong_token_is_401(
    bare_graph_client: httpx.AsyncClient,
) -> None:
    response = await bare_graph_client.get(
        "/internal/v1/degree",
        params=_degree_query(),
        headers={"Authorization": "Bearer not-the-service-token"},
    )
    _assert_refused(response)


async def test_an_event_with_a_wrong_token_is_401_and_not_applied(
    bare_graph_client: httpx.AsyncClient, graph: Graph
) -> None:
    member = new_id()
    response = await bare_graph_client.post(
        "/internal/v1/events",
        json=member_event(1, member).model_dump(mode="json"),
        headers={"Authorization": "Basic c2VydmljZTp0b2tlbg=="},
    )
    _assert_refused(response)
    rows = await graph.read("MATCH (m:Member {member_id: $id}) RETURN m.name", id=member)
    assert rows == []


async def test_an_internal_read_with_the_token_answers(graph_client: httpx.AsyncClient) -> None:
    response = await graph_client.get("/internal/v1/degree", params=_degree_query())
    assert response.status_code == 200
    assert response.json() == {"degree": None}


async def test_health_needs_no_token(bare_graph_client: httpx.AsyncClient) -> None:
    assert (await bare_graph_client.get("/livez")).status_code == 200
    assert (await bare_graph_client.get("/readyz")).status_code == 200


async def test_the_openapi_document_declares_the_bearer_scheme(
    bare_graph_client: httpx.AsyncClient,
) -> None:
    spec = (await bare_graph_client.get("/openapi.json")).json()
    degree = spec["paths"]["/internal/v1/degree"]["get"]
    assert degree["security"] == [{"HTTPBearer": []}]
    assert "401" in degree["responses"]
    assert "security" not in spec["paths"]["/livez"]["get"]


async def test_the_api_presents_the_token(
    client: httpx.AsyncClient, api_app: FastAPI, bare_graph_client: httpx.AsyncClient
) -> None:
    me, other = await sign_in_all(client, "Me", "Other")
    original = api_app.state.graph_client
    api_app.state.graph_client = bare_graph_client
    try:
        response = await client.get(f"/v1/members/{other.member_id}/degree", headers=me.headers)
    finally:
        api_app.state.graph_client = original
    assert response.status_code == 200, response.text


async def test_the_notifier_presents_the_token(
    settings: Settings,
    bare_graph_client: httpx.AsyncClient,
    graph: Graph,
    db_session: AsyncSession,
) -> None:
    member = new_id()
    ctx = {"settings": settings, "graph_client": bare_graph_client}
    await project_to_graph(ctx, member_event(1, member, "Ada"), db_session)
    rows = await graph.read("MATCH (m:Member {member_id: $id}) RETURN m.name AS name", id=member)
    assert rows == [{"name": "Ada"}]


def _production(graph: GraphServiceSettings) -> Settings:
    return Settings(
        environment="production",
        auth=AuthSettings(jwt_secret=SecretStr("j" * 40)),
        postgres=PostgresSettings(password=SecretStr("a-real-database-password")),
        webhooks=WebhookSettings(allow_loopback=False, secret_keys=[SecretStr("w" * 40)]),
        email_invitations=EmailInvitationSettings(
            address_key=SecretStr("k" * 40), link_key=SecretStr("l" * 40)
        ),
        graph=graph,
    )


def test_production_refuses_the_placeholder_service_token() -> None:
    with pytest.raises(ValidationError, match="RAPPORT_GRAPH__SERVICE_TOKEN"):
        _production(GraphServiceSettings())


def test_production_refuses_a_short_service_token() -> None:
    with pytest.raises(ValidationError, match="RAPPORT_GRAPH__SERVICE_TOKEN"):
        _production(GraphServiceSettings(service_token=SecretStr("short-token")))


def test_production_accepts_a_real_service_token() -> None:
    settings = _production(GraphServiceSettings(service_token=SecretStr("t" * 40)))
    assert settings.graph.service_token.get_secret_value() == "t" * 40
