"""A notification's email written straight to the bytes the SMTP server gets.

``mailer.build_email`` makes an ``EmailMessage`` and the SMTP client flattens it: the
standard email package parses every header it is given and folds it again as it writes,
and that was most of the cost of an email. The emails the notifier sends in bulk have
the same shape every time (the headers of ``build_email``, then the text and HTML
alternatives), so this module writes that shape directly, byte for byte what the email
package writes (tests/notifier/test_email_bytes.py compares the two on every kind and
on hostile text). A short plain ASCII header is written as it is; any other (a long
unsubscribe link, a subject in another script) is folded by the package's own header
code, which costs that header alone. What could come out otherwise (an address with
more than an addr-spec, a body with line breaks other than LF, a boundary found in a
part) is not written here: ``raw_email`` returns ``None`` and the caller builds the
email the usual way.
"""

import random
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.contentmanager import _encode_text  # type: ignore[attr-defined]
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from functools import cache

from aiosmtplib.email import extract_sender

from rapport_common.settings import SmtpSettings
from services.notifier.notifications.messages import Message, one_line

MESSAGE_ID_DOMAIN = "rapport.example"

# The email package's line length, and the shape of the boundaries it makes.
MAX_LINE: int = SMTP.max_line_length or 78
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))
# What a header may hold to be written as it is: printable ASCII, no encoded word.
_PLAIN = re.compile(r"[ -~]*")
_ENCODED_WORD = "=?"
# An address the package writes as it is given: a bare addr-spec of common characters.
_ADDRESS = re.compile(r"[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
# Line breaks that Python's text splitting sees but the package's encoding does not.
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_NEWLINES = re.compile(r"\r\n|\r|\n")


# RFC 5322 2.1.1: a line may be at most 998 characters, without its CRLF.
MAX_UNFOLDED_LINE = 998


class UnfoldedUrlHeader(UnstructuredHeader, BaseHeader):
    """``List-Unsubscribe: <URL>``, written on one line however long the URL is.

    A URL has no space to fold at, so the package turns a line longer than 78 characters
    into encoded words (``=?utf-8?q?=3Chttp...``). RFC 2369 and 8058 want the URL as it
    is, and mail clients do not decode encoded words there: they would not offer the
    Unsubscribe button at all. A line of up to 998 characters is allowed."""

    def fold(self, *, policy: Policy) -> str:
        line = f"{self.name}: {self}"
        if len(line) <= MAX_UNFOLDED_LINE and _PLAIN.fullmatch(str(self)):
            return line + policy.linesep
        return super().fold(policy=policy)


def header_registry() -> HeaderRegistry:
    """The package's header classes, with ``List-Unsubscribe`` kept on one line."""
    registry = HeaderRegistry()
    registry.map_to_type("list-unsubscribe", UnfoldedUrlHeader)
    return registry


_HEADERS = header_registry()


@dataclass(frozen=True)
class RawEmail:
    """An email as the SMTP exchange sends it: the envelope and the message's bytes,
    which need the server's 8BITMIME when a part is 8-bit (``eight_bit``); for a server
    without it, ``build`` makes the same email for the SMTP client to encode."""

    sender: str
    recipients: list[str]
    data: bytes
    eight_bit: bool
    build: Callable[[], EmailMessage]


@cache
def _sender(sender: str) -> tuple[str, str] | None:
    """The From line as the package writes it, and the envelope's sender (``None`` if
    it has none). Made once per configured sender."""
    email = EmailMessage()
    email["From"] = sender
    address = extract_sender(email)
    return None if address is None else (_folded("From", sender), address)


def _folded(name: str, value: str) -> str:
    """The header as the package writes it, the way it does: the header object setting
    it makes (``header_store_parse``), folded by the SMTP client's policy."""
    return SMTP.fold_binary(name, _HEADERS(name, value)).decode("ascii")


def _header(name: str, value: str) -> str | None:
    """The header's line(s), CRLF-ended; ``None`` for a value no header may hold (the
    package refuses it). A short plain value is written as it is; any other (too long,
    not ASCII, an encoded word, odd spaces) is left to the package's folding."""
    line = f"{name}: {value}"
    plain = len(line) <= MAX_LINE and _PLAIN.fullmatch(value) and _ENCODED_WORD not in value
    if plain and value and value == value.strip() and "  " not in value:
        return line + "\r\n"
    if len(value.splitlines()) > 1:
        return None
    return _folded(name, value)


def _part(subtype: str, text: str, last_header: str) -> tuple[bytes, bool] | None:
    if _OTHER_BREAKS.search(text):
        return None
    # With the policy ``build_email`` sets its content with (a base64 body encodes its
    # line ends as LF, as there).
    cte, payload = _encode_text(text, "utf-8", None, default_policy)
    body = _NEWLINES.sub("\r\n", payload).encode("ascii", "surrogateescape")
    headers = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {cte}\r\n{last_header}\r\n"
    )
    return headers.encode("ascii") + body, cte == "8bit"


def raw_email(
    settings: SmtpSettings,
    to: str,
    message: Message,
    notification_id: uuid.UUID,
    date: datetime,
    unsubscribe_url: str | None = None,
    thread: str | None = None,
    *,
    build: Callable[[], EmailMessage],
    message_id: str | None = None,
    boundary: str | None = None,
) -> RawEmail | None:
    """What ``build`` (``build_email`` with the same arguments) sends, or ``None`` when
    this email is not one written here (the caller then uses ``build``). ``message_id``
    and ``boundary`` are for tests, which compare the two."""
    sender = _sender(settings.sender)
    if sender is None or not _ADDRESS.fullmatch(to):
        return None
    message_id = message_id or make_msgid(idstring=str(notification_id), domain=MESSAGE_ID_DOMAIN)
    values = [
        ("To", to),
        ("Subject", one_line(message.subject)),
        ("Date", format_datetime(date)),
    ]
    lines = [sender[0]]
    for name, value in values:
        line = _header(name, value)
        if line is None:
            return None
        lines.append(line)
    # Never folded by the package, whatever its length: one unbreakable msg-id.
    lines.append(f"Message-ID: {message_id}\r\n")
    more = [("X-Rapport-Notification", str(notification_id))]
    if thread is not None:
        more += [("In-Reply-To", thread), ("References", thread)]
    more.append(("Auto-Submitted", "auto-generated"))
    if unsubscribe_url is not None:
        more += [
            ("List-Unsubscribe", f"<{unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
    for name, value in more:
        line = _header(name, value)
        if line is None:
            return None
        lines.append(line)
    text = _part("plain", message.text, "")
    html = _part("html", message.html, "MIME-Version: 1.0\r\n")
    if text is None or html is None:
        return None
    # As the package makes one (not a secret: only unlike any line of the parts).
    token = random.randrange(sys.maxsize)  # noqa: S311
    boundary = boundary or "=" * 15 + f"{token:0{_BOUNDARY_DIGITS}d}=="
    marker = b"--" + boundary.encode("ascii")
    if marker in text[0] or marker in html[0]:
        return None  # the package would pick another boundary
    lines.append(
        f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary="{boundary}"'
    )
    data = b"".join(
        [
            "".join(lines).encode("ascii"),
            b"\r\n\r\n",
            marker,
            b"\r\n",
            text[0],
            b"\r\n",
            marker,
            b"\r\n",
            html[0],
            b"\r\n",
            marker,
            b"--\r\n",
        ]
    )
    return RawEmail(sender[1], [to], data, text[1] or html[1], build)
