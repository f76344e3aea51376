import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from rapport_common.models.accounts import AccountTokenPurpose
from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import Unauthorized, problem_responses
from services.api.accounts.repository import AccountTokenRepository
from services.api.accounts.service import request_email
from services.api.auth import limits
from services.api.auth import service as sessions
from services.api.auth.passwords import verify_password
from services.api.auth.repository import RefreshTokenRepository, SignInFailureRepository
from services.api.auth.schemas import RefreshIn, SessionsOut, TokenOut
from services.api.clock import Now
from services.api.deps import (
    AccessClaimsDep,
    AuthFirstRoute,
    CurrentMember,
    SessionDep,
    SettingsDep,
)
from services.api.email_invitations import service as email_invitations
from services.api.idempotency.service import IdempotencyKeyHeader, fingerprint, run_idempotent
from services.api.invitations.deps import ContextDep
from services.api.members import service as members
from services.api.members.schemas import RegisteredMemberOut, RegisteredOut, RegisterIn
from services.api.schemas import OpaqueText, SingleLine

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/auth", tags=["auth"])


class InvalidCredentials(Unauthorized):
    slug, title = "invalid-credentials", "Wrong email or password"


@router.post(
    "/register",
    status_code=201,
    response_model=RegisteredOut,
    responses=problem_responses(
        (404, "The join token is not one of ours, or its sender withdrew it"),
        (409, "The email is already registered, or the join token was used"),
        (410, "The join token has expired"),
        (
            422,
            "Invalid fields (a password shorter than 10 characters or one of the most "
            "common passwords among them), or a join token sent to another address",
        ),
    ),
)
async def register(
    data: RegisterIn,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKeyHeader = None,
    join_token: Annotated[
        str | None,
        Query(
            max_length=300,
            description="From a join link: the address must be the one it was sent to",
        ),
    ] = None,
) -> Response:
    """Every invitation by email still open to this address is waiting for the new
    member (the latest from each sender), suggested on by their policy.

    The address gets a link to verify it (`email_verification: "pending"`): until it is
    followed the member may sign in and read, but not reach out (403 `email-unverified`
    on invitations, introductions, recommendations and webhook endpoints)."""

    async def create() -> RegisteredOut:
        if join_token is not None:
            await email_invitations.check_join_token(
                session, ctx.settings, join_token, data.email, ctx.now
            )
        member = await members.register(MemberRepository(session), data)
        await email_invitations.claim_for(ctx, member)
        await request_email(
            AccountTokenRepository(session),
            ctx.settings.accounts,
            member.id,
            AccountTokenPurpose.VERIFY_EMAIL,
            ctx.now,
        )
        return RegisteredOut(
            member_id=member.id,
            member=RegisteredMemberOut(member_id=member.id, email=member.email, name=member.name),
            email_verification="pending",
        )

    request_hash = fingerprint("POST", request.url.path, data)
    return await run_idempotent(session, "anonymous", idempotency_key, request_hash, create)


class SignInForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, with limits: an unbounded password would make argon2
    itself the attack."""

    def __init__(
        self,
        username: Annotated[SingleLine, Form(min_length=1, max_length=254)],
        password: Annotated[OpaqueText, Form(min_length=1, max_length=256)],
        scope: Annotated[SingleLine, Form(max_length=200)] = "",
    ) -> None:
        super().__init__(username=username, password=password, scope=scope)


@router.post(
    "/token",
    response_model=TokenOut,
    responses=problem_responses(
        (401, "Wrong credentials"),
        (
            429,
            "Too many failed sign-ins for this email or from this address, whether or not "
            "the email has an account; see Retry-After and RateLimit",
        ),
    ),
)
async def token(
    form: Annotated[SignInForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
) -> TokenOut:
    """Sign in with the OAuth2 password form (`username` is the email)."""
    failures = SignInFailureRepository(session)
    client_host = request.client.host if request.client else None
    attempt = await limits.admit_sign_in(failures, settings.auth, form.username, client_host, now)
    await session.commit()  # counted before the password is checked, seen by every process
    member = await MemberRepository(session).get_by_email(form.username)
    verified = await verify_password(member.password_hash if member else None, form.password)
    if not verified or member is None:
        raise InvalidCredentials("The email or the password is wrong.")
    await limits.forgive_sign_in(failures, attempt)
    device = sessions.describe_device(request.headers.get("user-agent"))
    return await sessions.issue_tokens(
        RefreshTokenRepository(session), settings.auth, member.id, now, device=device
    )


@router.post(
    "/refresh", response_model=TokenOut, responses=problem_responses((401, "Token not valid"))
)
async def refresh(
    data: RefreshIn, session: SessionDep, settings: SettingsDep, now: Now
) -> TokenOut:
    """Rotate: the refresh token is spent and a new pair returned."""
    try:
        return await sessions.rotate(
            RefreshTokenRepository(session), settings.auth, data.refresh_token, now
        )
    except sessions.RefreshTokenReused:
        await session.commit()  # the family's revocation must outlive the error response
        raise


@router.post("/logout", status_code=204)
async def logout(data: RefreshIn, session: SessionDep, now: Now) -> Response:
    """Sign out: revokes this sign-in's refresh tokens (access tokens expire by themselves)."""
    await sessions.sign_out(RefreshTokenRepository(session), data.refresh_token, now)
    return Response(status_code=204)


@router.get(
    "/sessions", response_model=SessionsOut, responses=problem_responses((401, "Not signed in"))
)
async def list_sessions(
    me: CurrentMember, claims: AccessClaimsDep, session: SessionDep, now: Now
) -> SessionsOut:
    """My sign-ins that can still refresh, the most recently used first; `current` is
    this request's. Each is a refresh-token family: refreshing keeps it, signing out,
    ending it here or changing the password ends it."""
    items = await sessions.list_sessions(
        RefreshTokenRepository(session), me.id, claims.session_id, now
    )
    return SessionsOut(items=items)


@router.delete(
    "/sessions/{session_id}",
    status_code=204,
    responses=problem_responses((401, "Not signed in"), (404, "No active session of mine")),
)
async def end_session(
    session_id: uuid.UUID, me: CurrentMember, session: SessionDep, now: Now
) -> Response:
    """End one sign-in: its refresh token stops working, and its access tokens too, at
    once. Ending the current one signs this client out."""
    await sessions.end_session(RefreshTokenRepository(session), me.id, session_id, now)
    return Response(status_code=204)


@router.delete("/sessions", status_code=204, responses=problem_responses((401, "Not signed in")))
async def end_sessions(
    me: CurrentMember,
    claims: AccessClaimsDep,
    session: SessionDep,
    now: Now,
    which: Annotated[
        Literal["others", "all"],
        Query(description="`others`: every sign-in but this one; `all`: this one too"),
    ] = "others",
) -> Response:
    """Sign out everywhere else (or everywhere)."""
    keep = claims.session_id if which == "others" else None
    await sessions.end_sessions(RefreshTokenRepository(session), me.id, now, keep)
    return Response(status_code=204)
