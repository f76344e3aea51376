"""``GET /internal/v1/paths`` is answered by a lean route ahead of FastAPI's; the FastAPI
route still documents it. Both must give the same answers and the same problems."""

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from rapport_common.settings import Settings
from services.graph.database import Graph
from services.graph.paths.router import PATHS_PATH, lean_routes
from tests.graph.builders import new_id, seed
from tests.graph.reference import AT, Link, Network

Ask = Callable[..., Awaitable[tuple[httpx.Response, httpx.Response]]]


@pytest.fixture
async def ask_both(settings: Settings, graph_app: FastAPI) -> AsyncIterator[Ask]:
    """Ask the lean route, then the FastAPI route (the lean one taken out for the call)."""
    transport = httpx.ASGITransport(app=graph_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://graph") as client:

        async def ask(
            params: dict[str, str], headers: dict[str, str] | None = None
        ) -> tuple[httpx.Response, httpx.Response]:
            headers = settings.graph.auth_headers() if headers is None else headers
            lean = await client.get(PATHS_PATH, params=params, headers=headers)
            routes = graph_app.router.routes
            graph_app.router.routes = [r for r in routes if r not in lean_routes]
            try:
                documented = await client.get(PATHS_PATH, params=params, headers=headers)
            finally:
                graph_app.router.routes = routes
            return lean, documented

        yield ask


def _same(lean: httpx.Response, documented: httpx.Response, status: int) -> dict[str, object]:
    assert lean.status_code == documented.status_code == status, (lean.text, documented.text)
    assert lean.headers["content-type"] == documented.headers["content-type"]
    assert lean.json() == documented.json()
    body: dict[str, object] = lean.json()
    return body


async def test_the_lean_route_answers_as_the_documented_one(graph: Graph, ask_both: Ask) -> None:
    s, x, y, z, t = (new_id() for _ in range(5))
    network = Network()
    for a, b, rating in ((s, x, 9), (x, t, 7), (s, y, 6), (y, z, 8), (z, t, 10), (y, t, 3)):
        network.allows[a] = network.allows[b] = True
        network.add(Link(a, b, rating, rating, "coffee", AT))
    await seed(graph, network)

    for params in (
        {"source": s, "target": t, "at": AT.isoformat()},
        {"source": s, "target": t, "at": AT.isoformat(), "limit": "1"},
        {"source": t, "target": s, "limit": "100"},
        {"source": s, "target": x},
        {"source": s, "target": new_id()},
        {"source": s, "target": t, "at": "12345", "extra": "ignored"},
    ):
        lean, documented = await ask_both(params)
        body = _same(lean, documented, 200)
        assert "degree" in body and "paths" in body
    lean, _ = await ask_both({"source": s, "target": t, "at": AT.isoformat()})
    found = [path["intermediaries"] for path in lean.json()["paths"]]
    assert found and all(set(ids) <= {x, y, z} for ids in found)


A, B = "b0f5c9a4-34c1-4a5e-9d0e-1c2d3e4f5a6b", "5d8e2f10-7a3b-4c9d-8e1f-0a2b3c4d5e6f"


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({}, "validation-error"),
        ({"target": B}, "validation-error"),
        ({"source": "not-a-member-id", "target": B}, "validation-error"),
        ({"source": A, "target": B, "limit": "0"}, "validation-error"),
        ({"source": A, "target": B, "limit": "101"}, "validation-error"),
        ({"source": A, "target": B, "limit": "five"}, "validation-error"),
        ({"source": A, "target": B, "at": "yesterday"}, "validation-error"),
        ({"source": A, "target": B, "at": "9999-12-31T23:59:59Z"}, "validation-error"),
        ({"source": A, "target": A.upper()}, "same-member"),
    ],
)
async def test_invalid_queries_get_the_same_problem(
    graph: Graph, ask_both: Ask, params: dict[str, str], slug: str
) -> None:
    lean, documented = await ask_both(params)
    body = _same(lean, documented, 422)
    assert lean.headers["content-type"] == "application/problem+json"
    assert str(body["type"]).endswith("/" + slug)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-service-token"}, {"Authorization": "Basic abc"}],
)
async def test_a_caller_without_the_token_gets_the_same_401(
    ask_both: Ask, headers: dict[str, str]
) -> None:
    # An invalid query too: the token is checked first on both routes.
    lean, documented = await ask_both({"source": "x"}, headers)
    body = _same(lean, documented, 401)
    assert lean.headers["www-authenticate"] == documented.headers["www-authenticate"] == "Bearer"
    assert str(body["type"]).endswith("/service-token-invalid")


@pytest.mark.parametrize("method", ["HEAD", "POST", "DELETE"])
async def test_other_methods_get_the_same_405(
    settings: Settings, graph_app: FastAPI, method: str
) -> None:
    transport = httpx.ASGITransport(app=graph_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://graph") as client:
        answers = []
        for routes in (
            graph_app.router.routes,
            [r for r in graph_app.router.routes if r not in lean_routes],
        ):
            kept, graph_app.router.routes = graph_app.router.routes, routes
            try:
                response = await client.request(
                    method,
                    PATHS_PATH,
                    params={"source": A, "target": B},
                    headers=settings.graph.auth_headers(),
                )
            finally:
                graph_app.router.routes = kept
            answers.append((response.status_code, response.headers.get("allow")))
    assert answers[0] == answers[1] == (405, "GET")
