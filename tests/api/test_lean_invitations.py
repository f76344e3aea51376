"""The invitation mix's usual calls answered ahead of FastAPI (``invitations.lean``)
answer as FastAPI's routes do, and everything else is handed to those routes."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.api.invitations import lean
from tests.factories import SignedIn, invitation_id, invite, sign_in

_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)")


@pytest.fixture
def handed_over(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests the lean routes handed to FastAPI's."""
    paths: list[str] = []
    hand_over = lean.LeanRoute._hand_over

    async def counted(request: Any, scope: Any, send: Any) -> None:
        paths.append(scope["path"])
        await hand_over(request, scope, send)

    monkeypatch.setattr(lean.LeanRoute, "_hand_over", staticmethod(counted))
    return paths


@contextmanager
def fastapi_alone(app: FastAPI) -> Iterator[None]:
    """The app without its lean routes, as it answered before them."""
    routes = app.router.routes
    kept = [route for route in routes if not isinstance(route, lean.LeanRoute)]
    assert len(kept) == len(routes) - len(lean.lean_routes)
    app.router.routes = kept
    try:
        yield
    finally:
        app.router.routes = routes


def _shown(response: httpx.Response, *known: uuid.UUID) -> tuple[Any, ...]:
    """The status, the headers a client reads and the body, with the ids and moments
    that differ from one call to the next named by role."""
    text = _MOMENT.sub("<moment>", response.text)
    for n, value in enumerate(known):
        text = text.replace(str(value), f"<id {n}>")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<new>", text)
    headers = {
        name: value
        for name, value in response.headers.items()
        if name not in {"x-request-id", "content-length"}
    }
    return response.status_code, headers, text


async def _pair(client: httpx.AsyncClient) -> tuple[SignedIn, SignedIn]:
    return await sign_in(client, "Ada Inviter"), await sign_in(client, "Bob Invitee")


async def _send_accept_decline(client: httpx.AsyncClient) -> list[tuple[Any, ...]]:
    """A send, its accept; another send, its decline (policy's note) and one with a
    note: each as the client sees it."""
    seen = []
    for answer, body in (("accept", {"rating": 8}), ("decline", None), ("decline", {"note": "No"})):
        ada, bob = await _pair(client)
        sent = await invite(client, ada, bob)
        made = uuid.UUID(sent.json()["invitation_id"])
        seen.append(_shown(sent, made, ada.member_id, bob.member_id))
        path = f"/v1/invitations/{made}/{answer}"
        answered = await client.post(path, json=body, headers=bob.headers)
        seen.append(_shown(answered, made, ada.member_id, bob.member_id))
    return seen


async def test_the_usual_calls_answer_as_fastapis_routes(
    api_app: FastAPI,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    handed_over: list[str],
) -> None:
    lean_answers = await _send_accept_decline(committed_client)
    assert handed_over == []  # all three answered by the lean routes
    with fastapi_alone(api_app):
        fastapi_answers = await _send_accept_decline(committed_client)
    assert [answer[0] for answer in lean_answers] == [201, 200] * 3
    assert lean_answers == fastapi_answers
    async with committed_db() as session:
        kinds = await session.scalars(
            select(OutboxEvent.type).where(OutboxEvent.type.startswith("invitation."))
        )
        counted = {kind: 0 for kind in ("accepted", "declined", "sent")}
        for kind in kinds:
            counted[kind.removeprefix("invitation.")] += 1
        assert counted == {"accepted": 2, "declined": 4, "sent": 6}


async def _unusual(client: httpx.AsyncClient) -> list[tuple[Any, ...]]:
    """Calls the lean routes hand over: each as the client sees it."""
    ada, bob = await _pair(client)
    other = await sign_in(client, "Cy Other")
    seen = []
    by_id = {"to_member_id": str(bob.member_id), "note": "Hi", "how_we_met": "coffee"}
    ids = (ada.member_id, bob.member_id, other.member_id)
    sends: list[tuple[dict[str, Any] | None, bytes | None, dict[str, str]]] = [
        (by_id, None, {}),  # not signed in
        (by_id, None, {"Authorization": "Bearer nonsense"}),
        (None, b"\xff{}", {**ada.headers, "Content-Type": "application/json"}),
        ({**by_id, "how_we_met": "nowhere"}, None, ada.headers),
        ({**by_id, "to_member_id": str(ada.member_id)}, None, ada.headers),  # myself
        ({**by_id, "to_member_id": str(uuid.uuid4())}, None, ada.headers),
        (by_id, None, {**ada.headers, "Idempotency-Key": "k1"}),
        (by_id, None, {**ada.headers, "Idempotency-Key": "k1"}),  # replayed
        (by_id, None, ada.headers),  # open already
    ]
    for body, content, headers in sends:
        response = await client.post("/v1/invitations", json=body, content=content, headers=headers)
        seen.append(_shown(response, *ids))
    made = await invitation_id(client, bob, other)
    for path, answer, headers in (
        (f"/v1/invitations/{made}/accept", {"rating": 11}, other.headers),
        (f"/v1/invitations/{made}/accept", {"rating": 5}, ada.headers),  # not theirs
        (f"/v1/invitations/{made}/decline", None, bob.headers),  # the inviter
        ("/v1/invitations/not-an-id/decline", None, other.headers),
        # uuid.UUID takes this form; the route's path field does not.
        (f"/v1/invitations/uuid:{made}/decline", None, other.headers),
        (f"/v1/invitations/{made}/decline", {"note": 5}, other.headers),
    ):
        response = await client.post(path, json=answer, headers=headers)
        seen.append(_shown(response, uuid.UUID(made), *ids))
    # Answered, then answered again: the second goes the locked way (409).
    assert (await client.post(f"/v1/invitations/{made}/decline", headers=other.headers)).is_success
    again = await client.post(f"/v1/invitations/{made}/decline", headers=other.headers)
    seen.append(_shown(again, uuid.UUID(made), *ids))
    return seen


async def test_what_is_not_the_usual_case_is_answered_by_fastapis_routes(
    api_app: FastAPI, committed_client: httpx.AsyncClient, handed_over: list[str]
) -> None:
    lean_answers = await _unusual(committed_client)
    assert len(handed_over) == len(lean_answers)
    with fastapi_alone(api_app):
        fastapi_answers = await _unusual(committed_client)
    assert [answer[0] for answer in lean_answers] == [
        401, 401, 422, 422, 422, 404, 201, 201, 409, 422, 404, 403, 422, 422, 422, 409,
    ]  # fmt: skip
    assert lean_answers == fastapi_answers


async def test_in_a_tests_transaction_the_lean_routes_use_its_session(
    client: httpx.AsyncClient, db_session: AsyncSession, handed_over: list[str]
) -> None:
    ada, bob = await _pair(client)
    made = await invitation_id(client, ada, bob)
    accepted = await client.post(
        f"/v1/invitations/{made}/accept", json={"rating": 6}, headers=bob.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert handed_over == []
    # Written in the test's transaction (rolled back after the test), so seen here.
    events = await db_session.scalars(
        select(OutboxEvent.type).where(OutboxEvent.payload["invitation_id"].astext == made)
    )
    assert sorted(events) == ["invitation.accepted", "invitation.sent"]


async def test_a_refused_token_is_answered_before_the_body_is_read(
    committed_client: httpx.AsyncClient, settings: Settings, handed_over: list[str]
) -> None:
    # A body past the size limit, sent without a length: reading it would answer 413.
    too_big = b"{" + b" " * settings.api.max_body_bytes + b"}"

    async def chunks() -> AsyncIterator[bytes]:
        yield too_big

    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        response = await committed_client.post(
            "/v1/invitations",
            content=chunks(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 401, response.text
    assert handed_over == ["/v1/invitations"] * 2


async def test_a_send_takes_a_connection_only_once_its_body_is_in(
    api_app: FastAPI, committed_client: httpx.AsyncClient, handed_over: list[str]
) -> None:
    """A slow upload holds none of the pool's connections (enough of them would stall
    every route of the process)."""
    ada, bob = await _pair(committed_client)
    reading, rest = asyncio.Event(), asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield f'{{"to_member_id": "{bob.member_id}", '.encode()
        reading.set()  # the route asks for more: it is reading the body
        await rest.wait()
        yield b'"note": "Hi", "how_we_met": "coffee"}'

    sending = asyncio.create_task(
        committed_client.post(
            "/v1/invitations",
            content=slow_body(),
            headers={**ada.headers, "Content-Type": "application/json"},
        )
    )
    await asyncio.wait_for(reading.wait(), timeout=10)
    held_while_reading = api_app.state.engine.pool.checkedout()
    rest.set()
    sent = await sending
    assert sent.status_code == 201, sent.text
    assert handed_over == []  # the lean route answered it
    assert held_while_reading == 0
