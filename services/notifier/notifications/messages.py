"""What each notification says, in plain text and HTML, with a link to the settings.

The texts come from the message catalogue (``catalogue/``), in the member's language."""

import html
import re
import unicodedata
from dataclasses import dataclass
from string import Template

from services.notifier.notifications import catalogue

_LINE_BREAKING = ("Cc", "Zl", "Zp")  # controls (CR, LF, VT, NEL...), U+2028, U+2029
_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """``text`` fit for an email header: every control character or line separator
    becomes a space, and runs of spaces one. Stored text may hold them (a name saved
    before the API refused them), and a header with a line break cannot be written."""
    flat = "".join(" " if unicodedata.category(c) in _LINE_BREAKING else c for c in text)
    return _SPACES.sub(" ", flat).strip()


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def compose(
    kind: str, facts: dict[str, str], settings_url: str, locale: str | None = None
) -> Message:
    texts = catalogue.texts(kind, locale)
    subject = Template(texts.subject).safe_substitute(facts)
    body = Template(texts.body).safe_substitute(facts)
    footer = f"Choose which messages you get: {settings_url}"
    paragraphs = "".join(f"<p>{html.escape(part)}</p>" for part in body.split("\n\n"))
    html_body = (
        f'<html><body>{paragraphs}<hr><p><a href="{html.escape(settings_url)}">'
        "Notification settings</a></p></body></html>"
    )
    text = f"{body}\n\n--\n{footer}\n"
    return Message(subject=one_line(subject)[:200], text=text, html=html_body)
