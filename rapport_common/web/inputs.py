"""What a service accepts from a client as text or as a moment.

Hostile characters and moments that overflow are refused with a 422 naming the field,
before anything is stored, logged, emailed or computed: PostgreSQL cannot store NUL, a
line break in a name would break the headers of the emails that carry it, and a date at
the edge of the calendar overflows once moved to UTC.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    GetJsonSchemaHandler,
    Strict,
    ValidationInfo,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

# Validation context for documents a service stored itself under the rules of their day:
# rules added since must not make them unreadable.
STORED: Final = {"stored": True}

# Every C0 and C1 control, line and paragraph separators, lone surrogates (not valid
# UTF-8), and the bidirectional overrides, embeddings and isolates, which can make a
# name read as another.
_C0_C1 = "\x00-\x1f\x7f-\x9f"
_SEPARATORS = "\u2028\u2029"
_SURROGATES = "\ud800-\udfff"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_ONE_LINE = f"{_C0_C1}{_SEPARATORS}{_SURROGATES}{_BIDI}"
_REFUSED_ON_ONE_LINE = re.compile(f"[{_ONE_LINE}]")
# Several lines keep tab, line feed, carriage return and the Unicode separators.
_SEVERAL_LINES = f"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_SURROGATES}{_BIDI}"
_REFUSED_ON_SEVERAL_LINES = re.compile(f"[{_SEVERAL_LINES}]")
_OPAQUE = f"\x00{_SURROGATES}"
_REFUSED_IN_OPAQUE = re.compile(f"[{_OPAQUE}]")
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

# A day inside the calendar's ends, so a day of arithmetic either side stays a date.
EARLIEST: Final = datetime(1, 1, 2, tzinfo=UTC)
LATEST: Final = datetime(9999, 12, 30, tzinfo=UTC)


def validating_stored(info: ValidationInfo) -> bool:
    """Whether a validator runs on a document read back with the ``STORED`` context."""
    return bool(info.context and info.context.get("stored"))


def _refuse(text: str, refused: re.Pattern[str], line_breaks_refused: bool) -> str:
    found = refused.search(text)
    if found is None:
        return text
    char, position = found.group(), found.start() + 1
    code = f"U+{ord(char):04X}"
    if char == "\x00":
        raise PydanticCustomError(
            "nul_character",
            "must not contain a NUL character (U+0000, at character {at})",
            {"at": position},
        )
    if "\ud800" <= char <= "\udfff":
        raise PydanticCustomError(
            "invalid_unicode",
            "must be valid Unicode: a lone surrogate ({code}) is at character {at}",
            {"code": code, "at": position},
        )
    if line_breaks_refused and char in _LINE_BREAKS:
        raise PydanticCustomError(
            "line_break",
            "must fit on one line: a line break ({code}) is at character {at}",
            {"code": code, "at": position},
        )
    raise PydanticCustomError(
        "control_character",
        "must not contain the control character {code} (at character {at})",
        {"code": code, "at": position},
    )


def _spelled(characters: str) -> str:
    """A regular expression's character ranges written with ``\\uXXXX`` escapes, as
    both ECMA-262 (JSON Schema's dialect) and Python read them."""
    return "".join(f"\\u{ord(char):04x}" if char != "-" else "-" for char in characters)


@dataclass(frozen=True)
class _Pattern:
    """The JSON Schema ``pattern`` of a text type: the characters its validator refuses,
    so a client's generator (or a fuzzer) makes only text the server takes. The
    validator stays the rule, and names the character it refuses."""

    refused: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        # Lone surrogates are left out: JSON Schema's strings are Unicode code points,
        # which surrogates are not, and a Rust or `u`-mode regex refuses such a range.
        refused = self.refused.replace(_SURROGATES, "")
        # A field's own pattern (a token's alphabet, a locale) is narrower: it stays.
        schema.setdefault("pattern", f"^[^{_spelled(refused)}]*$")
        return schema


def _single_line(text: str, info: ValidationInfo) -> str:
    if validating_stored(info):
        return text
    return _refuse(text, _REFUSED_ON_ONE_LINE, line_breaks_refused=True)


def _multi_line(text: str, info: ValidationInfo) -> str:
    if validating_stored(info):
        return text
    return _refuse(text, _REFUSED_ON_SEVERAL_LINES, line_breaks_refused=False)


def _opaque(text: str, info: ValidationInfo) -> str:
    if validating_stored(info):
        return text
    return _refuse(text, _REFUSED_IN_OPAQUE, line_breaks_refused=False)


def in_calendar(moment: datetime) -> bool:
    """Whether ``moment`` (naive read as UTC) lies between ``EARLIEST`` and ``LATEST``."""
    try:
        utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        return False
    return EARLIEST <= utc <= LATEST


def _within_calendar(moment: datetime) -> datetime:
    if not in_calendar(moment):
        raise PydanticCustomError(
            "datetime_out_of_range",
            "must lie between {earliest} and {latest} in UTC",
            {"earliest": EARLIEST.date().isoformat(), "latest": LATEST.date().isoformat()},
        )
    return moment


def _written_as_text(value: Any) -> Any:
    # Lax validation would read a number as seconds since 1970; a client means a date.
    if isinstance(value, int | float):
        raise PydanticCustomError("datetime_type", "must be an ISO 8601 date-time string")
    return value


# Names, headlines, emails, rule names, URLs, tokens: no control character, no line break.
SingleLine = Annotated[str, AfterValidator(_single_line), _Pattern(_ONE_LINE)]
# Notes, questions, answers, templates: tab, LF and CR kept; other controls and NUL refused.
MultiLine = Annotated[str, AfterValidator(_multi_line), _Pattern(_SEVERAL_LINES)]
# Passwords: never shown, so any character but NUL and the unencodable ones.
OpaqueText = Annotated[str, AfterValidator(_opaque), _Pattern(_OPAQUE)]
# A moment a client gives; naive ones are left for the field's own rule to judge.
# Both read text even in a strict input model, and only text (or a datetime).
Instant = Annotated[
    datetime, Strict(False), BeforeValidator(_written_as_text), AfterValidator(_within_calendar)
]
AwareInstant = Annotated[
    AwareDatetime,
    Strict(False),
    BeforeValidator(_written_as_text),
    AfterValidator(_within_calendar),
]
