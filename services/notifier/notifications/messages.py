"""What each notification says, in plain text and HTML, in the member's language, with
moments shown in their time zone and written the way their locale writes them.

The texts come from the message catalogue (``catalogue/``), arranged by the kind's
template (``rendering.py``); how an email wraps them (greeting, footer, links) is
``layout.py``'s business."""

import re
import unicodedata
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from string import Template
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_timezone_name
from markupsafe import Markup

from rapport_common.models.members import Member
from services.notifier.notifications import catalogue, rendering

_LINE_BREAKING = ("Cc", "Zl", "Zp")  # controls (CR, LF, VT, NEL...), U+2028, U+2029
_SPACES = re.compile(r"\s+")
_HEADING = re.compile(r'<h1 class="heading">.*?</h1>', re.DOTALL)
SUBJECT_LENGTH = 200
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "Universal"})

# A fact is text, or a moment the message shows in the reader's time zone.
Fact = str | datetime


def one_line(text: str) -> str:
    """``text`` fit for an email header: every control character or line separator
    becomes a space, and runs of spaces one. Stored text may hold them (a name saved
    before the API refused them), and a header with a line break cannot be written."""
    flat = "".join(" " if unicodedata.category(c) in _LINE_BREAKING else c for c in text)
    return _SPACES.sub(" ", flat).strip()


@dataclass(frozen=True)
class Recipient:
    """Who reads a message: what to call them, their language and their time zone."""

    first_name: str
    locale: str | None = None
    time_zone: str | None = None

    @classmethod
    def of(cls, member: Member) -> "Recipient":
        return cls(member.first_name, member.locale, member.time_zone)

    @property
    def babel_locale(self) -> Locale:
        """The member's locale as Babel knows it; English for a tag it does not know
        (a locale saved before the API checked it is no reason to lose a message)."""
        for tag in (self.locale, (self.locale or "").split("-")[0]):
            if not tag:
                continue
            try:
                return Locale.parse(tag, sep="-")
            except (UnknownLocaleError, ValueError):
                continue
        return Locale("en")

    @property
    def zone(self) -> tzinfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone) if self.time_zone else UTC
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return UTC


def when(moment: datetime, reader: Recipient) -> str:
    """``moment`` as the reader would write it, in their zone, named: "Dec 17, 2026,
    6:00 PM (Japan Time)", "17 déc. 2026, 18:00 (heure du Japon)"."""
    locale, zone = reader.babel_locale, reader.zone
    local = moment.astimezone(zone)
    day = format_date(local, "medium", locale=locale)
    hour = format_time(local, "short", tzinfo=zone, locale=locale)
    pattern = str(locale.datetime_formats["medium"])
    # A generic name ("Japan Time") reads better than the season's; UTC has none.
    zone_name = (
        "UTC"
        if str(zone) in _UTC_NAMES
        else get_timezone_name(local, "long", locale=locale, zone_variant="generic")
    )
    return f"{pattern.replace('{1}', day).replace('{0}', hour)} ({zone_name})"


def day_of(moment: datetime, reader: Recipient) -> str:
    """The reader's calendar day for ``moment``, written out: "December 3, 2026"."""
    local: date = moment.astimezone(reader.zone).date()
    return format_date(local, "long", locale=reader.babel_locale)


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


class Lenient(dict[str, Any]):
    """Facts or phrases as a template reads them: one missing reads as nothing, so a
    notification stored without a fact still renders (its place stays empty)."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Gathered:
    """A message the digest carries: its subject, when it came (written for the reader),
    and the message as stored, in both formats."""

    subject: str
    stamp: str
    html: str
    text: str


def compose(
    kind: str,
    facts: Mapping[str, Fact],
    reader: Recipient,
    folder: Path = catalogue.FOLDER,
    links: Mapping[str, str] | None = None,
    items: Sequence[Gathered] = (),
) -> Message:
    """``kind``'s message for ``reader``: the catalogue's texts in their language, the
    facts filled in (``$first_name`` is theirs), moments in their zone, arranged by the
    kind's template with its button (``links["action"]``) and, for the digest, the
    ``items`` it gathers."""
    texts = catalogue.texts(kind, reader.locale, folder)
    values = {
        name: when(value, reader) if isinstance(value, datetime) else value
        for name, value in facts.items()
    } | {"first_name": reader.first_name}
    phrases = {
        name: Template(source).safe_substitute(values).strip()
        for name, source in texts.phrases.items()
    }
    subject = one_line(Template(texts.subject).safe_substitute(values))[:SUBJECT_LENGTH]
    body = Template(texts.body).safe_substitute(values).strip()
    phrases |= {"subject": subject, "body": body}
    phrases.setdefault("heading", subject)
    html, text = rendering.render_kind(
        kind,
        {
            "t": Lenient(phrases),
            "f": Lenient(values),
            "links": dict(links or {}),
            # A gathered message's HTML was rendered (escaped) when it was stored; under
            # its subject in the digest, its own heading would repeat it.
            "items": [
                Gathered(
                    item.subject,
                    item.stamp,
                    Markup(_HEADING.sub("", item.html, count=1)),  # noqa: S704
                    item.text,
                )
                for item in items
            ],
        },
    )
    return Message(subject=subject, text=text, html=html)
