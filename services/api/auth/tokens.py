"""Short-lived signed access tokens (JWT, HS256).

They live on the system clock, not on the request's ``Clock``: PyJWT checks ``iat`` and
``exp`` against the system's time and takes no other, so issuing them on a moved clock
would make them not yet valid, or expired, the moment they are read.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from rapport_common.clock import system_clock
from rapport_common.settings import AuthSettings
from rapport_common.web.problems import Unauthorized

ALGORITHM = "HS256"
AUDIENCE = "rapport-api"
# Verified tokens kept at most (an app's): past it the oldest half is dropped.
VERIFIED_TOKENS_KEPT = 8192


@dataclass(frozen=True)
class AccessClaims:
    member_id: uuid.UUID
    # The sign-in (refresh-token family) the token was issued to; None in tokens issued
    # before sessions were named.
    session_id: uuid.UUID | None


def issue_access_token(
    settings: AuthSettings, member_id: uuid.UUID, session_id: uuid.UUID | None = None
) -> tuple[str, int]:
    """Return the token and its lifetime in seconds. ``sid`` names the sign-in, so that
    ending it ends its access tokens too, and the sessions list knows the caller's."""
    lifetime = timedelta(minutes=settings.access_token_minutes)
    now = system_clock()
    claims = {"sub": str(member_id), "aud": AUDIENCE, "iat": now, "exp": now + lifetime}
    if session_id is not None:
        claims["sid"] = str(session_id)
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


class VerifiedTokens:
    """The claims of access tokens already verified, each until its ``exp``: a client
    sends the same token with every request, and checking it again (PyJWT's checks of
    each character, then the HMAC) was 4% of an API worker's time.

    Only the signature and the decoding are spared. Whether the token's sign-in is still
    active is asked of the database at every request (``services.api.deps``), so an
    ended session's tokens are refused at once, cached or not. One per app (its
    ``state``), since the key that verified a token is the app's."""

    def __init__(self, kept: int = VERIFIED_TOKENS_KEPT) -> None:
        self.kept = kept
        self._claims: dict[str, tuple[AccessClaims, float]] = {}

    def get(self, token: str) -> AccessClaims | None:
        """The claims, if this token was verified and has not expired since (PyJWT
        refuses a token from its ``exp`` on, and so does this)."""
        found = self._claims.get(token)
        if found is None:
            return None
        if found[1] <= system_clock().timestamp():
            del self._claims[token]
            return None
        return found[0]

    def keep(self, token: str, claims: AccessClaims, expires_at: float) -> None:
        if len(self._claims) >= self.kept:
            # Dicts keep insertion order: the first half is the oldest.
            for old in list(self._claims)[: self.kept // 2]:
                del self._claims[old]
        self._claims[token] = (claims, expires_at)


def read_access_token(settings: AuthSettings, token: str) -> uuid.UUID:
    return read_access_claims(settings, token).member_id


def read_access_claims(
    settings: AuthSettings, token: str, verified: VerifiedTokens | None = None
) -> AccessClaims:
    """The token's claims, or 401. ``verified``: tokens verified before, consulted first,
    and this one kept there once verified."""
    if verified is not None and (known := verified.get(token)) is not None:
        return known
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "aud"]},
        )
        session_id = claims.get("sid")
        access = AccessClaims(
            uuid.UUID(claims["sub"]), uuid.UUID(session_id) if session_id is not None else None
        )
        if verified is not None:
            verified.keep(token, access, float(claims["exp"]))
        return access
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Your access token has expired; refresh it or sign in again.") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise Unauthorized("The access token is not valid; sign in again.") from exc
