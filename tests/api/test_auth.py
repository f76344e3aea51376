"""Registration, sign-in and the problem details every error carries."""

import asyncio
import uuid
from datetime import timedelta

import httpx
import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.clock import system_clock
from rapport_common.models.members import Member
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.api.auth.tokens import ALGORITHM, AUDIENCE
from tests.conftest import eventually
from tests.factories import PASSWORD, register, sign_in


async def test_register_returns_member_id_and_hashes_the_password(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    member_id = await register(client, email="Ada@Example.com")
    member = await db_session.get(Member, member_id)
    assert member is not None
    assert member.email == "ada@example.com"
    assert member.password_hash.startswith("$argon2")
    assert PASSWORD not in member.password_hash


async def test_register_writes_its_events_in_the_same_transaction(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    member_id = await register(client, name="Grace Hopper")
    events = (
        (await db_session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence)))
        .scalars()
        .all()
    )
    assert [(e.type, e.payload["member_id"]) for e in events] == [
        ("member.registered", str(member_id)),
        ("account.email_verification_requested", str(member_id)),
    ]


async def test_register_with_a_taken_email_is_a_409_problem(client: httpx.AsyncClient) -> None:
    await register(client, email="taken@example.com")
    response = await client.post(
        "/v1/auth/register",
        json={"email": "TAKEN@example.com", "password": PASSWORD, "name": "Other"},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/email-taken")
    assert "taken@example.com" in body["detail"]


async def test_failed_registration_leaves_no_event(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await register(client, email="once@example.com")
    await client.post(
        "/v1/auth/register",
        json={"email": "once@example.com", "password": PASSWORD, "name": "Twice"},
    )
    events = (
        (await db_session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence)))
        .scalars()
        .all()
    )
    assert len(events) == 2  # the first registration's, and its verification email


async def test_concurrent_registrations_of_one_email_create_one_member(
    committed_client: httpx.AsyncClient, committed_db: object
) -> None:
    body = {"email": "race@example.com", "password": PASSWORD, "name": "Racer"}
    responses = await asyncio.gather(
        *(committed_client.post("/v1/auth/register", json=body) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]


async def test_register_rejects_unknown_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={"email": "x@example.com", "password": PASSWORD, "name": "X", "is_recruiter": True},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/validation-error")
    assert body["errors"][0]["location"] == ["body", "is_recruiter"]


async def test_register_rejects_a_short_password_with_a_readable_detail(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/auth/register", json={"email": "x@example.com", "password": "short", "name": "X"}
    )
    assert response.status_code == 422
    assert "password" in response.json()["detail"]


async def test_malformed_json_is_a_422_problem_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_token_then_me_returns_my_profile(client: httpx.AsyncClient) -> None:
    me = await sign_in(client, name="Katherine Johnson", market_area="houston")
    response = await client.get("/v1/me", headers=me.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["member_id"] == str(me.member_id)
    assert body["name"] == "Katherine Johnson"
    assert body["market_area"] == "houston"
    assert "password_hash" not in body


async def test_token_with_a_wrong_password_is_401(client: httpx.AsyncClient) -> None:
    me = await sign_in(client)
    response = await client.post(
        "/v1/auth/token", data={"username": me.email, "password": "wrong-password-123"}
    )
    assert response.status_code == 401
    assert response.json()["type"].endswith("/invalid-credentials")


async def test_me_without_a_token_is_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_me_with_a_forged_token_is_401(client: httpx.AsyncClient) -> None:
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_public_profile_of_an_unknown_member_is_404(client: httpx.AsyncClient) -> None:
    me = await sign_in(client)
    response = await client.get(f"/v1/members/{uuid.uuid4()}", headers=me.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_route_and_wrong_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    wrong = await client.delete("/v1/auth/register")
    assert (missing.status_code, wrong.status_code) == (404, 405)
    assert (
        missing.headers["content-type"]
        == wrong.headers["content-type"]
        == "application/problem+json"
    )


async def test_an_oversized_password_at_sign_in_is_422_not_hashed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/auth/token", data={"username": "a@example.com", "password": "x" * 100_000}
    )
    assert response.status_code == 422


async def test_a_token_used_before_is_refused_once_it_expires(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """A token that worked is refused as expired once its ``exp`` passes."""
    ada = await sign_in(client, "Ada")
    now = system_clock()
    token = jwt.encode(
        {"sub": str(ada.member_id), "aud": AUDIENCE, "iat": now, "exp": now + timedelta(seconds=2)},
        settings.auth.jwt_secret.get_secret_value(),
        algorithm=ALGORITHM,
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/v1/me", headers=headers)).status_code == 200

    async def refused() -> bool:
        response = await client.get("/v1/me", headers=headers)
        return response.status_code == 401 and "expired" in response.json()["detail"]

    await eventually(refused, within=10)
