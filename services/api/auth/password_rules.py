"""What a new password must be (at registration, change and reset): at least 10
characters, at most 256 (argon2 must not become the attack), and none of the 30,000
most common passwords (the list zxcvbn ships, gathered from leaked password sets),
compared without regard to case.

As NIST SP 800-63B advises: a length and a blocklist, no rules about character classes.
"""

from functools import cache
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError
from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

from services.api.schemas import OpaqueText

MIN_LENGTH = 10
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(password.casefold() for password in FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    return password.casefold() in common_passwords()


def _not_common(password: str) -> str:
    if is_common(password):
        raise PydanticCustomError(
            "common_password",
            "is one of the most common passwords, which are tried first when accounts are "
            "attacked; choose another",
        )
    return password


NewPassword = Annotated[
    OpaqueText, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH), AfterValidator(_not_common)
]
# A password being checked, not chosen: any length a real one may have had.
CurrentPassword = Annotated[OpaqueText, Field(min_length=1, max_length=MAX_LENGTH)]
