"""Request bodies over the configured size are refused with a 413 problem before parsing."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.members import Member
from rapport_common.settings import Settings
from services.api.main import create_app
from tests.factories import PASSWORD, sign_in

EMOJI = "\U0001f600"  # twelve bytes once JSON escapes it as a surrogate pair


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/body-too-large")
    assert "x-request-id" in response.headers


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body sent without Content-Length, in pieces."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        yield b" " * piece
        sent += piece


async def test_a_body_declared_over_the_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient, settings: Settings, db_session: AsyncSession
) -> None:
    body = {"email": "big@example.com", "password": PASSWORD, "name": "Big"}
    padded = json.dumps(body) + " " * settings.api.max_body_bytes
    response = await client.post(
        "/v1/auth/register", content=padded, headers={"content-type": "application/json"}
    )
    assert_too_large(response)
    assert "1 MiB" in response.json()["detail"]
    count = select(func.count()).select_from(Member).where(Member.email == "big@example.com")
    assert await db_session.scalar(count) == 0


async def test_a_streamed_json_body_over_the_limit_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post(
        "/v1/auth/register",
        content=chunks(settings.api.max_body_bytes + 1),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_too_large(response)


async def test_a_streamed_sign_in_form_over_the_limit_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post(
        "/v1/auth/token",
        content=chunks(settings.api.max_body_bytes + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_too_large(response)


async def test_the_largest_valid_policy_fits_under_the_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    me = await sign_in(client)
    decline = {"type": "decline", "note_template": EMOJI * 1000}
    conditions: dict[str, Any] = {
        "how_we_met_in": [
            "coffee",
            "meal",
            "beer",
            "event",
            "worked_together",
            "known_online",
            "never_met",
        ],
        "inviter_is_recruiter": False,
        "same_market_area": True,
        "min_mutual_connections": 1000,
        "min_mutual_strength": 0.123456789,
        "referral_status_in": ["none", "unverified", "confirmed", "denied", "false_claim"],
        "question_answered": False,
    }
    rule = {"name": EMOJI * 80, "when": conditions, "then": decline, "automatic": False}
    policy = {"rules": [rule] * 50, "otherwise": decline, "otherwise_automatic": False}
    body = json.dumps(policy)
    assert len(body) < settings.api.max_body_bytes
    response = await client.put(
        "/v1/me/policy",
        content=body,
        headers={**me.headers, "If-Match": '"0"', "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text[:300]


async def test_the_limit_comes_from_the_settings(settings: Settings) -> None:
    small = settings.model_copy(
        update={"api": settings.api.model_copy(update={"max_body_bytes": 64})}
    )
    transport = httpx.ASGITransport(app=create_app(small))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.post("/v1/auth/register", content=b"{}" + b" " * 100)
    assert_too_large(response)
    assert "64 bytes" in response.json()["detail"]


async def test_every_operation_with_a_body_documents_the_413(api_app: FastAPI) -> None:
    operations = [op for path in api_app.openapi()["paths"].values() for op in path.values()]
    with_body = [op for op in operations if "requestBody" in op]
    assert with_body
    for operation in operations:
        documented = operation["responses"].get("413")
        if "requestBody" not in operation:
            assert documented is None, operation["operationId"]
            continue
        assert "application/problem+json" in documented["content"], operation["operationId"]
        assert "1 MiB" in documented["description"]
