"""The account flows' JSON endpoints, for a client with its own pages; the emailed links
open the API's own pages (``forms.py``), which do the same."""

from fastapi import APIRouter, Request, Response

from rapport_common.models.members import Member
from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import problem_responses
from services.api.accounts import limits
from services.api.accounts import service as accounts
from services.api.accounts.limits import Limit
from services.api.accounts.repository import AccountRequestRepository, AccountTokenRepository
from services.api.accounts.schemas import (
    EmailChangeIn,
    EmailSentOut,
    LinkIn,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordResetRequestIn,
)
from services.api.auth import limits as sign_in_limits
from services.api.auth.limits import client_network, normalised_email
from services.api.auth.passwords import verify_password
from services.api.auth.repository import RefreshTokenRepository, SignInFailureRepository
from services.api.clock import Now
from services.api.deps import (
    AccessClaimsDep,
    AuthFirstRoute,
    CurrentMember,
    SessionDep,
    SettingsDep,
)

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/auth", tags=["account"])

LINK_ERRORS = (
    (404, "The link's token is not one of ours"),
    (409, "The link was already used (each works once; a newer one spends the older)"),
    (410, "The link has expired"),
)
THROTTLED = (429, "Asked too often; see Retry-After and RateLimit")
PASSWORD_CHECK = (
    (403, "The password is wrong"),
    (
        429,
        "Too many wrong passwords for this account or from this address (counted with "
        "failed sign-ins); see Retry-After",
    ),
)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _check_password(
    session: SessionDep,
    settings: SettingsDep,
    member: Member,
    password: str,
    request: Request,
    now: Now,
) -> None:
    """Throttled with the sign-ins: a stolen access token must not become a way to
    guess the password."""
    failures = SignInFailureRepository(session)
    attempt = await sign_in_limits.admit_sign_in(
        failures, settings.auth, member.email, _client(request), now
    )
    await session.commit()  # counted before the password is checked, seen by every process
    if not await verify_password(member.password_hash, password):
        raise accounts.WrongPassword("The password is wrong.")
    await sign_in_limits.forgive_sign_in(failures, attempt)


@router.post(
    "/email-verification",
    status_code=202,
    response_model=EmailSentOut,
    responses=problem_responses(
        (401, "Not signed in"), (409, "The address is verified already"), THROTTLED
    ),
)
async def resend_verification(
    me: CurrentMember, session: SessionDep, settings: SettingsDep, now: Now
) -> EmailSentOut:
    """Send the verification email again (a few per hour); the earlier links keep
    working until one of them is followed."""
    if me.email_verified_at is not None:
        raise accounts.EmailAlreadyVerified(f"{me.email} is verified already; nothing to do.")
    await limits.admit(
        AccountRequestRepository(session),
        settings,
        [Limit("verification-resend", str(me.id), settings.accounts.resends_per_window)],
        now,
        "verification emails",
    )
    await accounts.resend_verification(AccountTokenRepository(session), settings.accounts, me, now)
    return EmailSentOut(detail=f"We are emailing a new link to {me.email}.")


@router.post(
    "/email-verification/confirm", status_code=204, responses=problem_responses(*LINK_ERRORS)
)
async def confirm_verification(data: LinkIn, session: SessionDep, now: Now) -> Response:
    """Follow the verification link: the address is verified."""
    await accounts.verify_email(AccountTokenRepository(session), data.token, now)
    return Response(status_code=204)


@router.post(
    "/password",
    status_code=204,
    responses=problem_responses((401, "Not signed in"), *PASSWORD_CHECK),
)
async def change_password(
    data: PasswordChangeIn,
    me: CurrentMember,
    claims: AccessClaimsDep,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
) -> Response:
    """Every other sign-in ends; this one (the access token's) goes on."""
    await _check_password(session, settings, me, data.current_password, request, now)
    await accounts.set_password(
        RefreshTokenRepository(session), me, data.new_password, now, claims.session_id
    )
    return Response(status_code=204)


@router.post(
    "/password-reset",
    status_code=202,
    response_model=EmailSentOut,
    responses=problem_responses(
        (
            429,
            "Asked too often for this address or from this client, whether or not the "
            "address has an account; see Retry-After and RateLimit",
        ),
    ),
)
async def request_password_reset(
    data: PasswordResetRequestIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
) -> EmailSentOut:
    """Email a reset link, valid about 30 minutes, if the address has an account. The
    answer, its limits and its work are the same either way."""
    email = normalised_email(data.email)
    await limits.admit(
        AccountRequestRepository(session),
        settings,
        [
            Limit("reset-address", email, settings.accounts.resets_per_address),
            Limit(
                "reset-client",
                client_network(_client(request)),
                settings.accounts.resets_per_client,
            ),
        ],
        now,
        "password reset emails",
    )
    member = await MemberRepository(session).get_by_email(email)
    await accounts.request_password_reset(
        AccountTokenRepository(session), settings.accounts, member, now
    )
    return EmailSentOut(
        detail=f"If {email} is the address of an account, a link to choose a new password "
        "is on its way; it works once, for "
        f"{settings.accounts.reset_minutes} minutes."
    )


@router.post("/password-reset/confirm", status_code=204, responses=problem_responses(*LINK_ERRORS))
async def reset_password(data: PasswordResetIn, session: SessionDep, now: Now) -> Response:
    """The new password; every sign-in of the account ends."""
    await accounts.reset_password(
        AccountTokenRepository(session),
        RefreshTokenRepository(session),
        data.token,
        data.new_password,
        now,
    )
    return Response(status_code=204)


@router.post(
    "/email",
    status_code=202,
    response_model=EmailSentOut,
    responses=problem_responses(
        (401, "Not signed in"),
        *PASSWORD_CHECK[:1],
        (409, "The address is yours already, or another account's"),
        (429, "Too many email changes asked for, or too many wrong passwords"),
    ),
)
async def request_email_change(
    data: EmailChangeIn,
    me: CurrentMember,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
) -> EmailSentOut:
    """Email a link to the new address; the change takes effect when it is followed,
    and the old address then gets a notice with a link that undoes it."""
    await _check_password(session, settings, me, data.password, request, now)
    await limits.admit(
        AccountRequestRepository(session),
        settings,
        [Limit("email-change", str(me.id), settings.accounts.resends_per_window)],
        now,
        "email changes",
    )
    await accounts.request_email_change(
        AccountTokenRepository(session), settings.accounts, me, data.new_email, now
    )
    return EmailSentOut(
        detail=f"Follow the link we are emailing to {data.new_email.lower()} to make it your "
        f"address; until then {me.email} stays."
    )


@router.post(
    "/email/confirm",
    status_code=204,
    responses=problem_responses(
        (404, "The link's token is not one of ours"),
        (409, "The link was already used, or the address is another account's now"),
        (410, "The link has expired"),
    ),
)
async def confirm_email_change(
    data: LinkIn, session: SessionDep, settings: SettingsDep, now: Now
) -> Response:
    """Follow the link sent to the new address: it becomes the account's, verified."""
    await accounts.confirm_email_change(
        AccountTokenRepository(session), settings.accounts, data.token, now
    )
    return Response(status_code=204)


@router.post(
    "/email/undo",
    status_code=204,
    responses=problem_responses(
        (404, "The link's token is not one of ours"),
        (409, "The link was already used, or the old address is another account's now"),
        (410, "The link has expired"),
    ),
)
async def undo_email_change(data: LinkIn, session: SessionDep, now: Now) -> Response:
    """Follow the link sent to the old address: it is the account's again, and every
    sign-in ends (choose a new password if someone else made the change)."""
    await accounts.undo_email_change(
        AccountTokenRepository(session), RefreshTokenRepository(session), data.token, now
    )
    return Response(status_code=204)
