"""``Idempotency-Key`` on creating POSTs.

The key row is inserted in the request's own transaction. A concurrent request with
the same key blocks on that insert until the first one commits (and then replays its
response) or rolls back (and then runs itself), so one key creates one resource.
Failed requests store nothing: their transaction, key row included, is rolled back.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.web.inputs import SingleLine
from rapport_common.web.problems import Problem
from services.api.idempotency.repository import IdempotencyRepository

IdempotencyKeyHeader = Annotated[
    # One line of printable text: a real HTTP server refuses control characters in a
    # header, an in-process transport does not, and the key is stored.
    SingleLine | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retry-safe creation: the same key and body replay the first response.",
    ),
]
REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(Problem):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency key reused"


def fingerprint(method: str, path: str, body: BaseModel | dict[str, Any]) -> str:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    canonical = json.dumps([method, path, data], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_idempotent(
    session: AsyncSession,
    scope: str,
    key: str | None,
    request_hash: str,
    create: Callable[[], Awaitable[BaseModel]],
    status_code: int = 201,
) -> JSONResponse:
    if key is None:
        created = await create()
        return JSONResponse(created.model_dump(mode="json"), status_code=status_code)
    keys = IdempotencyRepository(session)
    if not await keys.claim(scope, key, request_hash):
        stored = await keys.get(scope, key)
        if stored.request_hash != request_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request; "
                "use a new key for a new request."
            )
        return JSONResponse(
            stored.response_body,
            status_code=stored.status_code or status_code,
            headers={REPLAY_HEADER: "true"},
        )
    body = (await create()).model_dump(mode="json")
    await keys.store_response(scope, key, status_code, body)
    return JSONResponse(body, status_code=status_code)
