"""Sign-in sessions: short-lived access tokens, rotating refresh tokens."""

import hashlib
import secrets
import unicodedata
import uuid
from datetime import datetime, timedelta

from rapport_common.models.auth import RefreshToken
from rapport_common.settings import AuthSettings
from rapport_common.web.problems import NotFound, Unauthorized
from services.api.auth.repository import RefreshTokenRepository, SessionRow
from services.api.auth.schemas import SessionOut, TokenOut
from services.api.auth.tokens import issue_access_token


class InvalidRefreshToken(Unauthorized):
    slug, title = "invalid-refresh-token", "Refresh token not valid"


class RefreshTokenReused(InvalidRefreshToken):
    """Raised after revoking the family; the caller must commit that revocation."""


class SessionNotFound(NotFound):
    slug, title = "session-not-found", "No such session"


DEVICE_LENGTH = 200


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def describe_device(user_agent: str | None) -> str | None:
    """The User-Agent as the sessions list shows it: one line of printable text, at most
    200 characters; None when there is nothing to show."""
    if not user_agent:
        return None
    printable = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in user_agent)
    flat = " ".join(printable.split())
    if len(flat) > DEVICE_LENGTH:
        flat = flat[: DEVICE_LENGTH - 1] + "…"
    return flat or None


async def issue_tokens(
    repository: RefreshTokenRepository,
    settings: AuthSettings,
    member_id: uuid.UUID,
    now: datetime,
    family_id: uuid.UUID | None = None,
    device: str | None = None,
) -> TokenOut:
    """A new pair; without ``family_id``, a new sign-in (a session of its own)."""
    refresh_token = secrets.token_urlsafe(32)
    family = family_id or uuid.uuid4()
    await repository.add(
        RefreshToken(
            member_id=member_id,
            family_id=family,
            token_hash=_hash(refresh_token),
            expires_at=now + timedelta(days=settings.refresh_token_days),
            created_at=now,
            device=device,
        )
    )
    access_token, lifetime = issue_access_token(settings, member_id, family)
    return TokenOut(access_token=access_token, expires_in=lifetime, refresh_token=refresh_token)


async def rotate(
    repository: RefreshTokenRepository, settings: AuthSettings, refresh_token: str, now: datetime
) -> TokenOut:
    """Trade a refresh token for a new pair; the old one stops working."""
    stored = await repository.get_by_hash_for_update(_hash(refresh_token))
    if stored is None or stored.expires_at <= now:
        raise InvalidRefreshToken("This refresh token is unknown or expired; sign in again.")
    if stored.revoked_at is not None:
        # Someone replays a rotated token: treat the whole sign-in as stolen.
        await repository.revoke_family(stored.family_id, now)
        raise RefreshTokenReused(
            "This refresh token was already used; every session from that sign-in has been "
            "signed out. Sign in again."
        )
    stored.revoked_at = now
    return await issue_tokens(
        repository, settings, stored.member_id, now, stored.family_id, stored.device
    )


async def sign_out(repository: RefreshTokenRepository, refresh_token: str, now: datetime) -> None:
    """Revoke the sign-in this token belongs to. Unknown tokens are ignored: signing out
    twice is not an error."""
    stored = await repository.get_by_hash_for_update(_hash(refresh_token))
    if stored is not None:
        await repository.revoke_family(stored.family_id, now)


def _session_out(row: SessionRow, current: uuid.UUID | None) -> SessionOut:
    return SessionOut(
        session_id=row.family_id,
        device=row.device,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        current=row.family_id == current,
    )


async def list_sessions(
    repository: RefreshTokenRepository,
    member_id: uuid.UUID,
    current: uuid.UUID | None,
    now: datetime,
) -> list[SessionOut]:
    """One entry per sign-in still able to refresh, the most recently used first."""
    rows = await repository.active_sessions(member_id, now)
    return [_session_out(row, current) for row in rows]


async def end_session(
    repository: RefreshTokenRepository, member_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> None:
    if not await repository.revoke_member_family(member_id, session_id, now):
        raise SessionNotFound("You have no active session with this id.")


async def end_sessions(
    repository: RefreshTokenRepository,
    member_id: uuid.UUID,
    now: datetime,
    keep: uuid.UUID | None = None,
) -> int:
    """End every sign-in of the member but ``keep``; how many were ended."""
    return await repository.revoke_all(member_id, now, keep)
