"""Email addresses kept as keyed hashes, and the signed links sent to them.

The API signs the links and hashes the addresses; the notifier checks the hashes before
it sends anything. Both use these functions, so one key gives one hash everywhere.
"""

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Literal

Purpose = Literal["join", "stop", "export", "unsubscribe"]
_SEPARATOR = "."


class InvalidLink(ValueError):
    """The token was not made by us for this purpose (or was altered)."""


class ExpiredLink(ValueError):
    """The token is ours but past its expiry."""


def normalise(address: str) -> str:
    """As ``Member.email`` is stored: trimmed and lower-cased."""
    return address.strip().lower()


def address_hash(key: str, address: str) -> str:
    """HMAC-SHA256 of the normalised address, hex. Keyed, so a leaked list cannot be
    checked against a list of known addresses without the key."""
    digest = hmac.new(key.encode(), normalise(address).encode(), hashlib.sha256)
    return digest.hexdigest()


def _signature(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(key: str, purpose: Purpose, subject: str, expires: datetime | None) -> str:
    """A URL-safe token ``purpose.subject.expiry.signature``; ``expiry`` is Unix seconds,
    or 0 for a link that never expires. ``subject`` must not contain a dot."""
    if _SEPARATOR in subject:
        raise ValueError("a link's subject cannot contain a dot")
    expiry = str(int(expires.timestamp())) if expires is not None else "0"
    message = _SEPARATOR.join((purpose, subject, expiry))
    return f"{message}{_SEPARATOR}{_signature(key, message)}"


def verify(key: str, purpose: Purpose, token: str, now: datetime) -> str:
    """The subject of a token we signed for ``purpose``; ``InvalidLink`` for anything
    else, ``ExpiredLink`` once past its expiry. The signature is compared in constant
    time, before the expiry is read."""
    parts = token.split(_SEPARATOR)
    if len(parts) != 4 or not token.isascii():
        raise InvalidLink("malformed link")
    found_purpose, subject, expiry, signature = parts
    message = _SEPARATOR.join((found_purpose, subject, expiry))
    expected = _signature(key, message).encode()
    if not hmac.compare_digest(expected, signature.encode()) or found_purpose != purpose:
        raise InvalidLink("not a link of ours")
    if not expiry.isdigit():
        raise InvalidLink("malformed expiry")
    if expiry != "0" and int(expiry) <= now.timestamp():
        raise ExpiredLink("the link has expired")
    return subject
