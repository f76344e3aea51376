"""Sign-in sessions: short-lived access tokens, rotating refresh tokens."""

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from rapport_common.models.auth import RefreshToken
from rapport_common.settings import AuthSettings
from rapport_common.web.problems import Unauthorized
from services.api.auth.repository import RefreshTokenRepository
from services.api.auth.schemas import TokenOut
from services.api.auth.tokens import issue_access_token


class InvalidRefreshToken(Unauthorized):
    slug, title = "invalid-refresh-token", "Refresh token not valid"


class RefreshTokenReused(InvalidRefreshToken):
    """Raised after revoking the family; the caller must commit that revocation."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_tokens(
    repository: RefreshTokenRepository,
    settings: AuthSettings,
    member_id: uuid.UUID,
    now: datetime,
    family_id: uuid.UUID | None = None,
) -> TokenOut:
    refresh_token = secrets.token_urlsafe(32)
    await repository.add(
        RefreshToken(
            member_id=member_id,
            family_id=family_id or uuid.uuid4(),
            token_hash=_hash(refresh_token),
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    access_token, lifetime = issue_access_token(settings, member_id)
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
    return await issue_tokens(repository, settings, stored.member_id, now, stored.family_id)


async def sign_out(repository: RefreshTokenRepository, refresh_token: str, now: datetime) -> None:
    """Revoke the sign-in this token belongs to. Unknown tokens are ignored: signing out
    twice is not an error."""
    stored = await repository.get_by_hash_for_update(_hash(refresh_token))
    if stored is not None:
        await repository.revoke_family(stored.family_id, now)
