"""What a search query means and how its pages are keyed (docs/search.md)."""

import re
import uuid
from decimal import Decimal, InvalidOperation

from pydantic import EmailStr, TypeAdapter, ValidationError

from services.api.members.repository import STRANGER, Hit, SearchKey, SearchQuery
from services.api.members.schemas import SearchHitOut
from services.api.pagination import InvalidCursor, after_name

# At most this many words of a query go into the text search.
MAX_WORDS = 6
_EMAIL = TypeAdapter(EmailStr)


def parse(q: str) -> SearchQuery:
    """An address is matched exactly and only as one; anything else by words and
    trigrams. The text-search query is built from word characters alone, each quoted
    and prefix-matched, so no operator can be written into it."""
    text = q.strip()
    if "@" in text:
        try:
            return SearchQuery(text=text, tsquery=None, email=_EMAIL.validate_python(text).lower())
        except ValidationError:
            pass
    words = re.findall(r"\w+", text)[:MAX_WORDS]
    tsquery = " & ".join(f"'{word.lower()}':*" for word in words) or None
    return SearchQuery(text=text, tsquery=tsquery)


def cursor_key(hit: Hit) -> tuple[str, uuid.UUID]:
    return f"{hit.relevance:.2f}|{hit.degree or STRANGER}", hit.member.id


def after(cursor: str | None) -> SearchKey | None:
    """The key of the previous page's last hit; None on page one."""
    decoded = after_name(cursor)
    if decoded is None:
        return None
    key, member_id = decoded
    relevance, _, closeness = key.partition("|")
    try:
        parsed = Decimal(relevance), int(closeness)
    except (InvalidOperation, ValueError) as exc:
        raise _invalid() from exc
    if not parsed[0].is_finite() or not 1 <= parsed[1] <= STRANGER:
        raise _invalid()
    return parsed[0], parsed[1], member_id


def _invalid() -> InvalidCursor:
    return InvalidCursor("The cursor is not one this API issued; start from page one.")


def hit_out(hit: Hit) -> SearchHitOut:
    return SearchHitOut.from_member(
        hit.member,
        company=hit.member.company,
        title=hit.member.title,
        market_area=hit.member.market_area,
        degree=hit.degree,
    )
