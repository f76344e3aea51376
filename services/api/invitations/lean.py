"""The invitation mix's three calls in their usual case, answered ahead of FastAPI's
routes: a send by id (``quick_send``), an accept and a decline (``answers``).

FastAPI's part of such a request (matching the path through every included router,
solving a dozen dependencies, validating and serialising the answer) and the session
every route opens cost more than the two statements themselves. These routes run the
same steps on the same functions, with the body validated by the FastAPI route's own
body field and the answer serialised by its own response field, on a connection taken
from the pool without a session (``deps.driver_without_session``).

Anything but the usual case goes to FastAPI's route unchanged, as if these routes were
not there: no usable bearer token, a body that is not a valid JSON object for the
route, an ``Idempotency-Key``, a refusal of any kind, a send that is not the usual one
or found its inviter's row changed, an answer the locked way must give. Those requests
are read again from the start there, so every error is the FastAPI route's, in its
order; only the usual case is answered here, with what that route answers for it.
tests/api/test_lean_invitations.py compares the two."""

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.routing import APIRoute, serialize_response
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from rapport_common.db import work_conflicted
from rapport_common.models.enums import InvitationStatus
from rapport_common.web.problems import Problem
from services.api.auth.tokens import AccessClaims
from services.api.clock import get_clock
from services.api.deps import (
    DatabaseUnavailable,
    DriverSource,
    driver_without_session,
    get_access_claims,
    get_verified_member,
    signed_in_member,
)
from services.api.graph_client import get_graph
from services.api.invitations import answers, answers_at_once, quick_send
from services.api.invitations.router import (
    accept_invitation,
    decline_invitation,
    send_invitation,
)
from services.api.invitations.router import (
    router as invitations_router,
)
from services.api.invitations.schemas import (
    DeclineIn,
    InvitationAcceptIn,
    InvitationCreatedOut,
    InvitationIn,
)

# Set on a request these routes hand over, so that they match it no more.
_HANDED_OVER = "rapport.lean_handed_over"


def _route_of(endpoint: Callable[..., Any]) -> APIRoute:
    return next(
        route
        for route in invitations_router.routes
        if isinstance(route, APIRoute) and route.endpoint is endpoint
    )


class _NotUsual(Exception):
    """The request goes to FastAPI's route."""


async def _claims(request: Request) -> AccessClaims:
    """The bearer token's claims, as ``AuthFirstRoute`` reads them first."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if not token or scheme.lower() != "bearer":
        raise _NotUsual
    return await get_access_claims(request, token)


async def _body(request: Request, route: APIRoute, *, optional: bool = False) -> Any:
    """The body as the FastAPI route reads it: a JSON object (UTF-8), validated by the
    route's own body field. Nothing here for an optional body left out."""
    body = await request.body()
    if not body and optional:
        return None
    if request.headers.get("content-type") != "application/json":
        raise _NotUsual
    try:
        value = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _NotUsual from exc
    if not isinstance(value, dict):
        raise _NotUsual
    assert route.body_field is not None
    values, errors = await request_body_to_args(
        [route.body_field], value, embed_body_fields=route._embed_body_fields
    )
    if errors:
        raise _NotUsual
    return values[route.body_field.name]


async def _send(request: Request, drive: DriverSource) -> Response:
    if "idempotency-key" in request.headers:
        raise _NotUsual
    claims = await _claims(request)
    data: InvitationIn = await _body(request, _SEND)
    if data.to_member_id is None or data.to_member_id == claims.member_id:
        raise _NotUsual
    settings = request.app.state.settings
    now = (await get_clock(request))()
    ctx = quick_send.QuickContext(drive, await get_graph(request), settings, now)
    sent = None
    for first in (True, False):
        found = await quick_send.read(ctx, claims, data.to_member_id)
        if found is None:
            raise _NotUsual
        await get_verified_member(signed_in_member(claims, found.sender, found.signed_in))
        try:
            sent = await quick_send.send(ctx, claims.member_id, found, data, changed_raises=first)
        except quick_send.InviterChanged:
            # Another send of the same inviter came first: read again, once, as
            # FastAPI's route would after a hand-over, without going through it.
            continue
        break
    if sent is None:
        raise _NotUsual
    invitation_id, quota = sent
    created = InvitationCreatedOut(invitation_id=invitation_id, status=InvitationStatus.PENDING)
    # As ``run_idempotent`` answers a send without a key, then the route its quota.
    response = JSONResponse(created.model_dump(mode="json"), status_code=201)
    response.headers.update(quota.headers())
    return response


AtOnce = Callable[[AccessClaims, uuid.UUID, datetime, Any], Awaitable[BaseModel | None]]


def _invitation_id(request: Request, route: APIRoute) -> uuid.UUID:
    """The id as the FastAPI route's own path field validates it (``uuid.UUID`` alone
    also takes forms it refuses, such as ``urn:uuid:...`` or braces)."""
    values, errors = request_params_to_args(route.dependant.path_params, request.path_params)
    if errors:
        raise _NotUsual
    invitation_id: uuid.UUID = values["invitation_id"]
    return invitation_id


async def _answer(
    request: Request,
    drive: DriverSource,
    route: APIRoute,
    act: Callable[[answers.ToAnswer, answers.AnswerRead, Any], Awaitable[BaseModel | None]],
    *,
    optional: bool = False,
    at_once: AtOnce | None = None,
) -> Response:
    """``at_once``: the usual case in one statement, tried first; when it makes nothing,
    the read and ``act`` give the answer."""
    claims = await _claims(request)
    invitation_id = _invitation_id(request, route)
    data = await _body(request, route, optional=optional)
    now = (await get_clock(request))()
    made = None if at_once is None else await at_once(claims, invitation_id, now, data)
    if made is None:
        read = await answers.read_answer(drive, claims, invitation_id, now)
        if read.usual is None:
            raise _NotUsual
        made = await act(read.usual, read, data)
    if made is None:
        raise _NotUsual
    # As the FastAPI route answers what its handler returns.
    content = await serialize_response(
        field=route.response_field, response_content=made, dump_json=True
    )
    return Response(content, media_type="application/json")


async def _accept(request: Request, drive: DriverSource) -> Response:
    async def accept(
        usual: answers.ToAnswer, read: answers.AnswerRead, data: Any
    ) -> BaseModel | None:
        assert isinstance(data, InvitationAcceptIn)
        return await answers.accept(drive, usual, read.now, data.rating, data.how_we_met)

    async def at_once(
        claims: AccessClaims, invitation_id: uuid.UUID, now: datetime, data: Any
    ) -> BaseModel | None:
        assert isinstance(data, InvitationAcceptIn)
        return await answers_at_once.accept_at_once(
            drive, claims, invitation_id, now, data.rating, data.how_we_met
        )

    return await _answer(request, drive, _ACCEPT, accept, at_once=at_once)


async def _decline(request: Request, drive: DriverSource) -> Response:
    async def decline(
        usual: answers.ToAnswer, read: answers.AnswerRead, data: Any
    ) -> BaseModel | None:
        note = (data if data is not None else DeclineIn()).note
        return await answers.decline(drive, usual, read.now, note)

    async def at_once(
        claims: AccessClaims, invitation_id: uuid.UUID, now: datetime, data: Any
    ) -> BaseModel | None:
        # Without a note, the note is the policy's, rendered from what the read gives.
        note = None if data is None else data.note
        if note is None:
            return None
        return await answers_at_once.decline_at_once(drive, claims, invitation_id, now, note)

    return await _answer(request, drive, _DECLINE, decline, optional=True, at_once=at_once)


_SEND, _ACCEPT, _DECLINE = (
    _route_of(endpoint) for endpoint in (send_invitation, accept_invitation, decline_invitation)
)


class LeanRoute(Route):
    """A POST answered here in its usual case, else by FastAPI's route of the same
    path (the request matched again without this route, its body given again)."""

    def __init__(
        self, path: str, answer: Callable[[Request, DriverSource], Awaitable[Response]]
    ) -> None:
        super().__init__(path, self._asgi, methods=["POST"], include_in_schema=False)
        self.app = self._asgi  # an ASGI app of its own, not a request-to-response one
        self.answer = answer

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # POST alone, and not a request handed over: every other method finds FastAPI's
        # routes (and their 405) as before.
        if scope.get("method") != "POST" or scope.get(_HANDED_OVER):
            return Match.NONE, {}
        match, child = super().matches(scope)
        if match is Match.FULL:
            child["route"] = self  # its template names the request in the metrics
        return match, child

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: Response | None = None
        async with driver_without_session(request) as drive:
            try:
                response = await self.answer(request, drive)
            except (_NotUsual, Problem) as exc:
                if isinstance(exc, DatabaseUnavailable):
                    raise
                # Nothing was written: the connection (or a test's session, whose
                # transaction is left as FastAPI's route will find it) is let go as
                # after a request that succeeded.
            except Exception as exc:
                if not work_conflicted(exc):
                    raise
                # PostgreSQL rolled the statement back for another transaction's sake
                # (a deadlock with the inviter's erasure, say): nothing was written, and
                # FastAPI's route does the work again, locked, on what the other left.
        if response is None:
            await self._hand_over(request, scope, send)
        else:
            await response(scope, receive, send)

    @staticmethod
    async def _hand_over(request: Request, scope: Scope, send: Send) -> None:
        scope[_HANDED_OVER] = True
        if not hasattr(request, "_body"):
            # Refused before its body was read (a missing or refused token): FastAPI's
            # route reads it, or answers without reading it, as it would have.
            await scope["router"](scope, request.receive, send)
            return
        body = await request.body()
        given = False

        async def receive_again() -> dict[str, Any]:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await request.receive()  # type: ignore[return-value]

        await scope["router"](scope, receive_again, send)


lean_routes = [
    LeanRoute("/v1/invitations", _send),
    LeanRoute("/v1/invitations/{invitation_id}/accept", _accept),
    LeanRoute("/v1/invitations/{invitation_id}/decline", _decline),
]
