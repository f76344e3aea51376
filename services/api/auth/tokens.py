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


def read_access_token(settings: AuthSettings, token: str) -> uuid.UUID:
    return read_access_claims(settings, token).member_id


def read_access_claims(settings: AuthSettings, token: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "aud"]},
        )
        session_id = claims.get("sid")
        return AccessClaims(
            uuid.UUID(claims["sub"]), uuid.UUID(session_id) if session_id is not None else None
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Your access token has expired; refresh it or sign in again.") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise Unauthorized("The access token is not valid; sign in again.") from exc
