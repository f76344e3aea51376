"""Webhook signing secrets sealed at rest.

A signing secret must be shown again and used to sign, so it cannot be hashed; it is
stored sealed with AES-GCM under a key of the operator's (``webhooks.secret_keys``),
so a copy of the database (a dump, a backup, a read-only leak) does not hand out the
secrets partners verify our webhooks with. The first key seals; every key listed
opens, so a key is rotated by putting a new one first, running
``python -m rapport_common.webhooks.reseal`` (every secret sealed again under it), then
removing the old one (docs/operations.md).

A sealed value reads ``v1.<key id>.<nonce and ciphertext, base64url>``; the key id is
a fingerprint of the key, never the key.
"""

import base64
import hashlib
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from rapport_common.settings import Settings, get_settings

VERSION = "v1"
NONCE_BYTES = 12
# A 40-character secret sealed is about 110 characters; room for longer ones.
SEALED_LENGTH = 400


class SealingError(Exception):
    """A sealed value none of the configured keys opens."""


def _aes_key(key: str) -> bytes:
    # Operators give any long random string; HKDF makes it an AES-256 key.
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"rapport webhook secrets"
    ).derive(key.encode())


def _key_id(aes_key: bytes) -> str:
    return hashlib.sha256(b"key id" + aes_key).hexdigest()[:12]


class SecretBox:
    """Seals with the first key, opens with whichever key sealed."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("webhooks.secret_keys needs at least one key")
        derived = [_aes_key(key) for key in keys]
        self._sealing_id = _key_id(derived[0])
        self._keys = {_key_id(key): AESGCM(key) for key in derived}

    def seal(self, secret: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._sealing_id].encrypt(nonce, secret.encode(), None)
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{self._sealing_id}.{body}"

    def open(self, value: str) -> str:
        version, _, rest = value.partition(".")
        key_id, _, body = rest.partition(".")
        if version != VERSION or not body:
            raise SealingError("not a sealed webhook secret")
        aes = self._keys.get(key_id)
        if aes is None:
            raise SealingError(f"sealed with key {key_id}, which webhooks.secret_keys lacks")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            return aes.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
        except InvalidTag as exc:
            raise SealingError(f"sealed value under key {key_id} does not open") from exc

    def sealed_with_first_key(self, value: str) -> bool:
        return value.startswith(f"{VERSION}.{self._sealing_id}.")

    def is_sealed(self, value: str) -> bool:
        return value.startswith(f"{VERSION}.")


@lru_cache(maxsize=4)
def _box(keys: tuple[str, ...]) -> SecretBox:
    return SecretBox(list(keys))


def secret_box(settings: Settings | None = None) -> SecretBox:
    """The box of the configured keys (``webhooks.secret_keys``)."""
    settings = settings or get_settings()
    return _box(tuple(key.get_secret_value() for key in settings.webhooks.secret_keys))


class SealedSecret(TypeDecorator[str]):
    """A column holding a secret sealed: code reads and writes the secret itself."""

    impl = String(SEALED_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else secret_box().seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else secret_box().open(str(value))
