"""An unexpected error is a 500 problem that carries the request id, and its log line has
the same id, in any service built on rapport_common.web."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rapport_common.logging import JsonFormatter
from rapport_common.web.middleware import RequestIdMiddleware
from rapport_common.web.problems import install_problem_handlers

SECRET = "connection string with a password"


class JsonLines(logging.Handler):
    """Each record as the service would write it, formatted while the request runs."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter("test"))
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def logged() -> Iterator[JsonLines]:
    handler = JsonLines()
    logger = logging.getLogger("rapport_common.web.problems")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


async def _fail() -> None:
    raise RuntimeError(SECRET)


def _tiny_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)
    install_problem_handlers(app)
    app.add_api_route("/fails", _fail)
    return app


async def _get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.get(path, headers=headers)


def _assert_internal_error(response: httpx.Response) -> str:
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/internal-error")
    assert SECRET not in response.text
    request_id: str = response.headers["x-request-id"]
    return request_id


async def test_an_unexpected_error_is_a_500_problem_with_the_request_id(
    logged: JsonLines,
) -> None:
    response = await _get(_tiny_app(), "/fails")
    request_id = _assert_internal_error(response)
    (line,) = [line for line in logged.lines if line["message"] == "unhandled error"]
    assert line["request_id"] == request_id
    assert line["path"] == "/fails"
    assert SECRET in line["exception"]


async def test_an_unexpected_error_keeps_the_clients_request_id(logged: JsonLines) -> None:
    response = await _get(_tiny_app(), "/fails", **{"X-Request-ID": "trace-42"})
    assert _assert_internal_error(response) == "trace-42"
    assert [line["request_id"] for line in logged.lines] == ["trace-42"]


async def test_the_api_answers_an_unexpected_error_with_its_request_id(
    api_app: FastAPI, logged: JsonLines
) -> None:
    api_app.add_api_route("/v1/fails", _fail)
    response = await _get(api_app, "/v1/fails")
    request_id = _assert_internal_error(response)
    assert [line["request_id"] for line in logged.lines] == [request_id]
