"""Sign-in throttling: failed sign-ins are limited per account and per client address,
answered 429 with Retry-After, the same way whether or not the email has an account."""

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.settings import Settings
from tests.conftest import SteppingClock
from tests.factories import PASSWORD, register, sign_in

TOKEN = "/v1/auth/token"
WRONG = "wrong-password-123"


def _from(api_app: FastAPI, host: str) -> httpx.AsyncClient:
    """The API as another client address sees it (inside the `client` fixture's
    transaction, whose session override is in place while that fixture is)."""
    transport = httpx.ASGITransport(app=api_app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://api")


async def _attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"username": email, "password": password})


async def _fail(client: httpx.AsyncClient, times: int, *emails: str) -> None:
    for n in range(times):
        response = await _attempt(client, emails[n % len(emails)], WRONG)
        assert response.status_code == 401, response.text


async def test_the_attempt_after_ten_failures_is_429_even_with_the_right_password(
    client: httpx.AsyncClient, clock: SteppingClock, settings: Settings
) -> None:
    assert settings.auth.sign_in_failures_per_account == 10
    me = await sign_in(client)
    # Case and surrounding spaces name the same account.
    await _fail(client, 10, me.email, me.email.upper(), f" {me.email} ")
    response = await _attempt(client, me.email, PASSWORD)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/sign-in-throttled")
    assert response.headers["retry-after"] == "900"
    assert response.headers["ratelimit-policy"] == '"sign-in-account";q=10;w=900'
    assert response.headers["ratelimit"] == '"sign-in-account";r=0;t=900'


async def test_an_unknown_email_is_throttled_with_the_same_answer(
    client: httpx.AsyncClient, api_app: FastAPI, clock: SteppingClock
) -> None:
    me = await sign_in(client)
    async with _from(api_app, "10.0.0.1") as known, _from(api_app, "10.0.0.2") as unknown:
        await _fail(known, 10, me.email)
        await _fail(unknown, 10, "nobody@example.com")
        for_known = await _attempt(known, me.email, PASSWORD)
        for_unknown = await _attempt(unknown, "nobody@example.com", PASSWORD)
    assert for_known.status_code == for_unknown.status_code == 429
    assert for_known.json() == for_unknown.json()
    for header in ("retry-after", "ratelimit", "ratelimit-policy"):
        assert for_known.headers[header] == for_unknown.headers[header]


async def test_failures_from_one_address_do_not_throttle_another(
    client: httpx.AsyncClient, api_app: FastAPI, clock: SteppingClock
) -> None:
    me = await sign_in(client)
    strangers = [f"stranger{n}@example.com" for n in range(10)]
    async with _from(api_app, "10.0.0.1") as guesser, _from(api_app, "10.0.0.2") as elsewhere:
        await _fail(guesser, 10, *strangers)
        from_guesser = await _attempt(guesser, me.email, PASSWORD)
        from_elsewhere = await _attempt(elsewhere, me.email, PASSWORD)
    assert from_guesser.status_code == 429
    assert from_guesser.headers["ratelimit-policy"] == '"sign-in-address";q=10;w=900'
    assert from_elsewhere.status_code == 200


async def test_ipv6_clients_are_counted_by_their_64(
    client: httpx.AsyncClient, api_app: FastAPI, clock: SteppingClock
) -> None:
    me = await sign_in(client)
    strangers = [f"stranger{n}@example.com" for n in range(10)]
    async with _from(api_app, "2001:db8:1:2::1") as one, _from(api_app, "2001:db8:1:2::99") as two:
        await _fail(one, 10, *strangers)
        assert (await _attempt(two, me.email, PASSWORD)).status_code == 429


async def test_the_throttle_lifts_after_the_window(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    me = await sign_in(client)
    await _fail(client, 10, me.email)
    clock.advance(minutes=14, seconds=59)
    still = await _attempt(client, me.email, PASSWORD)
    assert (still.status_code, still.headers["retry-after"]) == (429, "1")
    clock.advance(seconds=1)
    assert (await _attempt(client, me.email, PASSWORD)).status_code == 200


async def test_a_success_clears_the_account_count_but_not_the_address_count(
    client: httpx.AsyncClient, api_app: FastAPI, clock: SteppingClock
) -> None:
    me = await sign_in(client)
    async with _from(api_app, "10.0.0.1") as home, _from(api_app, "10.0.0.2") as away:
        await _fail(home, 9, me.email)
        assert (await _attempt(home, me.email, PASSWORD)).status_code == 200
        # The account starts again from zero: ten more failures before it is throttled.
        await _fail(away, 10, me.email)
        # The address kept its nine: one more failure reaches its limit.
        await _fail(home, 1, "someone-else@example.com")
        response = await _attempt(home, "another@example.com", PASSWORD)
    assert response.status_code == 429
    assert response.headers["ratelimit-policy"] == '"sign-in-address";q=10;w=900'


async def test_concurrent_wrong_passwords_cannot_exceed_the_limit(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    email = "raced@example.com"
    await register(committed_client, email=email)
    responses = await asyncio.gather(*(_attempt(committed_client, email, WRONG) for _ in range(15)))
    assert sorted(r.status_code for r in responses) == [401] * 10 + [429] * 5


async def test_the_token_route_documents_its_429(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "429" in spec["paths"][TOKEN]["post"]["responses"]
