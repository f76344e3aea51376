"""The pages the links in account emails open, served by the API itself: the GET shows
a short page with a button (or a new-password field), never spending the link, since
mail scanners and previews fetch links; the form's POST does what the JSON endpoints
of ``router.py`` do."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError

from rapport_common.web.problems import Problem
from services.api import pages
from services.api.accounts import service as accounts
from services.api.accounts.repository import AccountTokenRepository
from services.api.auth.password_rules import MAX_LENGTH, MIN_LENGTH, NewPassword
from services.api.auth.repository import RefreshTokenRepository
from services.api.clock import Now
from services.api.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/account", include_in_schema=False)

Purpose = accounts.Purpose
# Longer than any token we make, short enough that hashing it costs nothing.
TokenQuery = Annotated[str, Query(max_length=200)]
TokenForm = Annotated[str, Form(max_length=200)]
_NEW_PASSWORD = TypeAdapter(NewPassword)
VERIFY, RESET, CONFIRM, UNDO = (
    "/account/verify-email",
    "/account/reset-password",
    "/account/confirm-email",
    "/account/undo-email-change",
)


def _problem_page(problem: Problem) -> HTMLResponse:
    return pages.render(problem.title, [problem.detail], status_code=problem.status)


async def _show(
    session: SessionDep, token: str, purpose: Purpose, now: Now, page: Callable[[], HTMLResponse]
) -> HTMLResponse:
    """The page for a link that can still be followed; why it cannot otherwise."""
    try:
        await accounts.find_link(AccountTokenRepository(session), token, purpose, now)
    except Problem as problem:
        return _problem_page(problem)
    return page()


async def _act(
    session: SessionDep, action: Callable[[], Awaitable[object]], done: HTMLResponse
) -> HTMLResponse:
    try:
        await action()
    except Problem as problem:
        await session.rollback()  # nothing of a refused step is kept
        return _problem_page(problem)
    return done


def _button(action: str, token: str, title: str, text: str, button: str) -> HTMLResponse:
    form = pages.Form(action, button, [pages.Field("token", value=token)])
    return pages.render(title, [text], form)


def _reset_form(token: str, problem: str | None = None) -> HTMLResponse:
    fields = [
        pages.Field("token", value=token),
        pages.Field(
            "new_password",
            kind="password",
            label=f"New password (at least {MIN_LENGTH} characters)",
            autocomplete="new-password",
            min_length=MIN_LENGTH,
            max_length=MAX_LENGTH,
        ),
    ]
    text = ["Choose a new password. Every device signed in to your account will be signed out."]
    if problem is not None:
        text.insert(0, problem)
    form = pages.Form(RESET, "Set the new password", fields)
    return pages.render("Choose a new password", text, form, 200 if problem is None else 422)


@router.get("/verify-email")
async def verify_email_page(session: SessionDep, now: Now, token: TokenQuery = "") -> HTMLResponse:
    return await _show(
        session,
        token,
        Purpose.VERIFY_EMAIL,
        now,
        lambda: _button(
            VERIFY,
            token,
            "Confirm your email address",
            "Confirm that this address is yours, to start inviting people on Rapport.",
            "Confirm my address",
        ),
    )


@router.post("/verify-email")
async def verify_email(session: SessionDep, now: Now, token: TokenForm) -> HTMLResponse:
    done = pages.render("Address confirmed", ["Thank you: your email address is confirmed."])
    return await _act(
        session,
        lambda: accounts.verify_email(AccountTokenRepository(session), token, now),
        done,
    )


@router.get("/reset-password")
async def reset_password_page(
    session: SessionDep, now: Now, token: TokenQuery = ""
) -> HTMLResponse:
    return await _show(session, token, Purpose.RESET_PASSWORD, now, lambda: _reset_form(token))


@router.post("/reset-password")
async def reset_password(
    session: SessionDep,
    now: Now,
    token: TokenForm,
    new_password: Annotated[str, Form(max_length=1024)],
) -> HTMLResponse:
    try:
        checked = _NEW_PASSWORD.validate_python(new_password)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        return _reset_form(token, f"That password cannot be used: {reason}.")
    done = pages.render(
        "Password changed",
        ["Your new password is set. Every device was signed out: sign in again with it."],
    )
    return await _act(
        session,
        lambda: accounts.reset_password(
            AccountTokenRepository(session), RefreshTokenRepository(session), token, checked, now
        ),
        done,
    )


@router.get("/confirm-email")
async def confirm_email_page(session: SessionDep, now: Now, token: TokenQuery = "") -> HTMLResponse:
    return await _show(
        session,
        token,
        Purpose.CHANGE_EMAIL,
        now,
        lambda: _button(
            CONFIRM,
            token,
            "Confirm your new email address",
            "Confirm that this address is yours, to make it your Rapport account's address.",
            "Use this address",
        ),
    )


@router.post("/confirm-email")
async def confirm_email(
    session: SessionDep, settings: SettingsDep, now: Now, token: TokenForm
) -> HTMLResponse:
    done = pages.render("Address changed", ["This is your account's address now; sign in with it."])
    return await _act(
        session,
        lambda: accounts.confirm_email_change(
            AccountTokenRepository(session), settings.accounts, token, now
        ),
        done,
    )


@router.get("/undo-email-change")
async def undo_email_change_page(
    session: SessionDep, now: Now, token: TokenQuery = ""
) -> HTMLResponse:
    return await _show(
        session,
        token,
        Purpose.UNDO_EMAIL_CHANGE,
        now,
        lambda: _button(
            UNDO,
            token,
            "Undo the change of address",
            "Make this address your account's again. Every device signed in to your account "
            "will be signed out.",
            "Undo the change",
        ),
    )


@router.post("/undo-email-change")
async def undo_email_change(session: SessionDep, now: Now, token: TokenForm) -> HTMLResponse:
    done = pages.render(
        "Change undone",
        [
            "This address is your account's again, and every device was signed out. If you "
            "did not ask for the change, choose a new password now: "
            "POST /v1/auth/password-reset, or 'Forgot your password?' in the app.",
        ],
    )
    return await _act(
        session,
        lambda: accounts.undo_email_change(
            AccountTokenRepository(session), RefreshTokenRepository(session), token, now
        ),
        done,
    )
