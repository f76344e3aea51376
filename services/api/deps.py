"""Typed dependencies: the request's transaction, settings, the signed-in member."""

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import ColumnElement, bindparam, exists, select, true
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import greenlet_spawn

from rapport_common.db import connection_lost, work_conflicted
from rapport_common.models.auth import RefreshToken
from rapport_common.models.members import Member
from rapport_common.settings import Settings
from rapport_common.web.problems import Forbidden, ServiceUnavailable, Unauthorized
from services.api.auth.tokens import AccessClaims, VerifiedTokens, read_access_claims

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain
# ``def`` in the thread pool, a hop per dependency per request.
async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class DatabaseUnavailable(ServiceUnavailable):
    slug, title = "database-unavailable", "The database is unavailable"


def database_unavailable() -> DatabaseUnavailable:
    return DatabaseUnavailable(
        "The connection to the database failed; retry in a moment. Nothing was saved, "
        "unless it failed at the very moment your change was committed: a retry then "
        "finds it made.",
        headers={"Retry-After": "1"},
    )


class ConcurrentChange(ServiceUnavailable):
    slug, title = "concurrent-change", "Another change got in the way"


def concurrent_change() -> ConcurrentChange:
    return ConcurrentChange(
        "Another change to the same records was being made at the same moment, and the "
        "database rolled yours back: nothing was saved. Retry; it then goes through, or "
        "answers as the other change left things.",
        headers={"Retry-After": "1"},
    )


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit on success, roll back on any error.

    Pooled connections are not pinged before use (a round trip each time); a request
    that meets a dropped one fails with a 503 and nothing written, the pool replaces
    its connections, and the client's retry goes through."""
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException as exc:
            await session.rollback()
            if connection_lost(exc):
                raise database_unavailable() from exc
            if work_conflicted(exc):
                raise concurrent_change() from exc
            raise


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
# scope="function": commit before the response is sent, so a client never sees a
# success for a write that could still fail to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


@asynccontextmanager
async def statements_on_their_own(session: AsyncSession) -> AsyncIterator[None]:
    """Each statement run in here commits by itself, when the request has not begun its
    transaction yet: no BEGIN and no COMMIT, two round trips of their own with the
    asyncpg dialect (a seventh of an API worker's time). For a read that needs no lock,
    and for a write that is one statement, atomic alone, checking what it relies on.

    Inside a transaction already begun (by an earlier statement of the request, or a
    test's) the statements simply join it. The connection is the session's, so what
    they write or fail with is the request's as any other statement's."""
    raw = await (await session.connection()).get_raw_connection()
    if raw.driver_connection is None or raw.driver_connection.is_in_transaction():
        yield
        return
    # The dialect's connection: in autocommit it sends no BEGIN (and so no COMMIT).
    adapter: Any = raw.dbapi_connection
    adapter.autocommit = True
    try:
        yield
    finally:
        adapter.autocommit = False


@asynccontextmanager
async def on_the_driver(session: AsyncSession) -> AsyncIterator[tuple[asyncpg.Connection, Dialect]]:
    """The request's own connection as the asyncpg driver's, with its dialect (for
    ``rapport_common.db.DriverStatement``), for the hottest statements: SQLAlchemy's
    execution and ORM loading around them cost more than the driver's work.

    What runs on it is the request's as any statement of the session: inside a
    transaction already begun (by the request, or a test's) it joins it; before one,
    each statement commits by itself, as in ``statements_on_their_own``. A lost
    connection is invalidated as SQLAlchemy's own execution would, so the pool replaces
    it and ``get_session`` answers 503."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    try:
        yield driver, connection.dialect
    except Exception as exc:
        if connection_lost(exc):
            await connection.invalidate(exc)
        raise


# Where a statement runs on the driver: ``on_the_driver`` of a session, or of a
# connection taken from the pool without one (``driver_without_session``).
Driver = tuple[asyncpg.Connection, Dialect]
DriverSource = Callable[[], AbstractAsyncContextManager[Driver]]


def session_driver(session: AsyncSession) -> DriverSource:
    return partial(on_the_driver, session)


@asynccontextmanager
async def driver_without_session(request: Request) -> AsyncIterator[DriverSource]:
    """For a route that runs only driver statements (``invitations.lean``): a connection
    straight from the engine's pool, with no session around it (opening one, beginning
    its transaction and committing nothing were a tenth of such a request's Python).
    Its statements commit each by itself, as ``on_the_driver``'s do before a
    transaction. A lost connection is invalidated, so the pool replaces it, and
    answered 503 as ``get_session`` answers it.

    Where a test has put its own transaction in place of ``get_session`` (an override
    that takes no parameter, tests/conftest.py), its session's connection is used, as
    every other route uses it."""
    override = request.app.dependency_overrides.get(get_session)
    if override is not None:
        async with asynccontextmanager(override)() as session:
            yield session_driver(session)
        return
    engine: AsyncEngine = request.app.state.engine
    lost = False
    # Taken at the first statement, not before: a request refused on its token, or
    # still sending its body, holds no connection of the pool.
    pooled: Any = None

    @asynccontextmanager
    async def source() -> AsyncIterator[Driver]:
        nonlocal lost, pooled
        try:
            if pooled is None:
                pooled = await engine.raw_connection()
            yield pooled.driver_connection, engine.dialect
        except Exception as exc:
            lost = lost or connection_lost(exc)
            raise

    try:
        yield source
    except Exception as exc:
        if lost or connection_lost(exc):
            lost = True
            raise database_unavailable() from exc
        if work_conflicted(exc):
            raise concurrent_change() from exc
        raise
    finally:
        # Back to the pool (its reset sends nothing: no transaction was begun), or
        # dropped from it.
        if pooled is not None:
            await _checkin(engine, pooled, lost)


# The pool's checkin runs in a greenlet because it may talk to the server (a reset that
# rolls back, closing a connection the pool has no room for). Mostly it does not: a
# connection whose driver began no transaction goes back to a pool with room without a
# word, and then it is a plain call (a greenlet hop was about 8 us of a lean request's
# CPU: bench/README.md, "Issue 14 API (session 24)"). Nothing awaits between the look at
# the pool and the call, so no other request changes it in between. (The checkout stays
# in its greenlet: whether it will connect again is the pool's private state.)
async def _checkin(engine: AsyncEngine, pooled: Any, lost: bool) -> None:
    pool = engine.sync_engine.pool
    driver: asyncpg.Connection | None = pooled.driver_connection
    if (
        lost
        or not isinstance(pool, QueuePool)
        or pool.checkedin() >= pool.size()
        or driver is None
        or driver.is_closed()
        or driver.is_in_transaction()
    ):
        await greenlet_spawn(pooled.invalidate if lost else pooled.close)
        return
    pooled.close()


# Where the claims read before the body (``AuthFirstRoute``) wait for the dependency,
# so that the token is decoded and its signature checked once a request.
_CLAIMS_SCOPE_KEY = "rapport.access_claims"


async def get_access_claims(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AccessClaims:
    # The settings are taken as ``SettingsDep`` gives them, not as a dependency of their
    # own: one solve fewer at every signed-in request.
    known: AccessClaims | None = request.scope.get(_CLAIMS_SCOPE_KEY)
    if known is not None:
        return known
    if not token:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <access token>'.")
    state = request.app.state
    verified: VerifiedTokens = state.verified_tokens
    claims = read_access_claims(state.settings.auth, token, verified)
    request.scope[_CLAIMS_SCOPE_KEY] = claims
    return claims


AccessClaimsDep = Annotated[AccessClaims, Depends(get_access_claims)]


# Whether the token's sign-in is still active, as a column: bind parameters
# ``member_id`` and ``session_id`` (``sign_in_params``).
SIGN_IN_ACTIVE: ColumnElement[bool] = exists().where(
    RefreshToken.family_id == bindparam("session_id"),
    RefreshToken.member_id == bindparam("member_id"),
    RefreshToken.revoked_at.is_(None),
)


def sign_in_active(claims: AccessClaims) -> ColumnElement[bool]:
    """The column that says the token's sign-in is active (always, for a token that
    names none)."""
    return true() if claims.session_id is None else SIGN_IN_ACTIVE


def sign_in_params(claims: AccessClaims) -> dict[str, Any]:
    return {"member_id": claims.member_id, "session_id": claims.session_id}


def signed_in_member(claims: AccessClaims, member: Member | None, active: bool | None) -> Member:
    """The member read with ``sign_in_active``, or the 401 that says why not."""
    # A sign-in ended (or an account gone with its sign-ins) reads as ended, as before.
    if claims.session_id is not None and (member is None or not active):
        raise Unauthorized("This sign-in has ended; sign in again.")
    if member is None:
        raise Unauthorized("The account behind this token no longer exists.")
    return member


# Built once, with bind parameters: building them was a cost of every request.
_MEMBER = select(Member, true()).where(Member.id == bindparam("member_id"))
_MEMBER_IN_SESSION = select(Member, SIGN_IN_ACTIVE).where(Member.id == bindparam("member_id"))


async def get_current_member(session: SessionDep, claims: AccessClaimsDep) -> Member:
    """The signed-in member. An access token dies with its sign-in: once that session
    is ended (signed out, ended from the sessions list, a password changed or reset),
    its tokens are refused at once, not only when they expire. One round trip: the
    member and whether their sign-in is still active, in the same statement."""
    query = _MEMBER if claims.session_id is None else _MEMBER_IN_SESSION
    # A read on its own, ahead of the request's transaction: a request that reads
    # nothing else (``GET /v1/me``) sends neither BEGIN nor COMMIT, and one that goes on
    # begins its transaction with its next statement, which sees at least as much.
    async with statements_on_their_own(session):
        row = (await session.execute(query, sign_in_params(claims))).first()
    return signed_in_member(claims, *(row if row is not None else (None, None)))


CurrentMember = Annotated[Member, Depends(get_current_member)]


class EmailUnverified(Forbidden):
    slug, title = "email-unverified", "Verify your email address first"


async def get_verified_member(member: CurrentMember) -> Member:
    """The signed-in member, if their email address is verified: reaching out to others
    (invitations, introductions, recommendations, webhooks) waits for it."""
    if member.email_verified_at is None:
        raise EmailUnverified(
            f"Confirm your email address first: follow the link we sent to {member.email}. "
            "No email? Check your spam folder, or have it sent again with "
            "POST /v1/auth/email-verification."
        )
    return member


VerifiedMember = Annotated[Member, Depends(get_verified_member)]


def _needs_sign_in(dependant: Dependant) -> bool:
    return dependant.call is get_access_claims or any(
        _needs_sign_in(sub) for sub in dependant.dependencies
    )


def _takes_json(route: APIRoute) -> bool:
    field = route.body_field
    return field is not None and not isinstance(field.field_info, params.Form)


def _body_optional(route: APIRoute) -> bool:
    return route.body_field is not None and not route.body_field.field_info.is_required()


def _refused_body(kind: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": ("body",), "msg": message, "input": {}}])


class AuthFirstRoute(APIRoute):
    """The route class of every API router. A route that needs a signed-in member
    checks the bearer token before its body is read, so an anonymous request is told
    401 whatever its body; a JSON body that is not UTF-8 is refused as broken JSON is
    (422), not with FastAPI's bare 400; and an optional body is an object or nothing,
    not `null` (which FastAPI would read as nothing).

    ``get_access_claims`` still runs for the handler: an ended sign-in, which takes the
    database to find, is refused there."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        sign_in = _needs_sign_in(self.dependant)
        json_body, optional = _takes_json(self), _body_optional(self)

        async def authenticated_first(request: Request) -> Response:
            if sign_in:
                token = await oauth2_scheme(request)
                await get_access_claims(request, token)
            if json_body:
                # Read once here; FastAPI's handler gets the same request, body cached.
                _check_body(await request.body(), optional)
            return await handler(request)

        return authenticated_first


def _check_body(body: bytes, optional: bool) -> None:
    try:
        body.decode()
    except UnicodeDecodeError as exc:
        raise _refused_body("json_invalid", "The body is not valid UTF-8 JSON") from exc
    if optional and body.strip() == b"null":
        raise _refused_body("model_type", "Send an object, or no body")
