"""PostgreSQL stopped at once (as a crash would) and started again: while it is away
and while it starts up, every request that needs it is a 503 problem with Retry-After,
never a 500; once it answers, requests go through again by themselves."""

import asyncio
import time
import uuid
from collections.abc import Awaitable

import httpx
import pytest
from fastapi import FastAPI

from rapport_common.settings import Settings
from services.api.auth.tokens import issue_access_token
from tests.conftest import eventually
from tests.recovery.conftest import READY_WITHIN_SECONDS, stack

pytestmark = pytest.mark.faults


async def test_postgres_immediate_restart_answers_503_with_retry_after_then_recovers(
    settings: Settings, api_app: FastAPI
) -> None:
    # A token for nobody: /v1/me then looks the member up in PostgreSQL and answers 401,
    # the normal answer of a request that reached the database.
    token, _ = issue_access_token(settings.auth, uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}"}
    answers: list[tuple[int, str | None]] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api_app), base_url="http://api"
    ) as client:

        async def ask() -> int:
            response = await client.get("/v1/me", headers=headers)
            answers.append((response.status_code, response.headers.get("Retry-After")))
            return response.status_code

        assert await ask() == 401
        await stack("stop", "postgres", "--immediate")
        try:
            assert await ask() == 503
            restart = asyncio.create_task(stack("start", "postgres"))

            async def asked_until_started() -> bool:  # all the way through its start-up
                await ask()
                return restart.done()

            await eventually(asked_until_started, within=90, interval=0.02)
            await restart
        finally:
            await stack("start", "postgres")
        answering_since = time.monotonic()
        await eventually(lambda: _is(ask(), 401), within=READY_WITHIN_SECONDS, interval=0.1)
        recovered_after = time.monotonic() - answering_since

    statuses = [status for status, _ in answers]
    assert 500 not in statuses, answers
    assert {status for status in statuses} <= {401, 503}
    assert all(retry_after for status, retry_after in answers if status == 503)
    unavailable = statuses.count(503)
    print(f"answered normally {recovered_after:.2f} s after postgres answered; {unavailable} 503s")


async def _is(status: Awaitable[int], expected: int) -> bool:
    return await status == expected
