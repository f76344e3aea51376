"""An email written straight to bytes (``mime.py``) is, byte for byte, what the email
package writes for the same arguments and the SMTP client sends; when it could differ,
it is not written there at all."""

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from aiosmtplib.email import extract_recipients, extract_sender, flatten_message

from rapport_common.settings import SmtpSettings
from services.notifier.notifications.mailer import build_email
from services.notifier.notifications.messages import Message
from services.notifier.notifications.mime import RawEmail, raw_email
from services.notifier.notifications.samples import every_sample

SMTP = SmtpSettings()
MOMENT = datetime(2026, 12, 17, 18, 0, tzinfo=UTC)
UNSUBSCRIBE = "https://api.rapport.example/v1/notifications/unsubscribe?token=abc"
THREAD = "<invitation.0b9e6f4c@rapport.example>"


def written(
    to: str, message: Message, date: datetime = MOMENT, **links: str | None
) -> tuple[RawEmail | None, Callable[[], EmailMessage]]:
    notification_id = uuid.uuid4()

    def build() -> EmailMessage:
        return build_email(SMTP, to, message, notification_id, date, **links)

    return raw_email(SMTP, to, message, notification_id, date, **links, build=build), build


def same_as_the_package(raw: RawEmail, build: Callable[[], EmailMessage]) -> None:
    """``raw`` against the package's own writing of the email ``build`` makes, with the
    two things drawn at random (the Message-ID and the boundary) taken from ``raw``."""
    email = build()
    message_id = raw.data.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode()
    boundary = raw.data.split(b'boundary="')[1].split(b'"')[0].decode()
    email.replace_header("Message-ID", message_id)
    email.set_boundary(boundary)
    assert raw.data == flatten_message(email)
    assert raw.sender == extract_sender(email)
    assert raw.recipients == extract_recipients(email)


@pytest.mark.parametrize("links", [{}, {"unsubscribe_url": UNSUBSCRIBE, "thread": THREAD}])
def test_every_kind_in_every_language_is_written_as_the_package_writes_it(
    links: dict[str, str],
) -> None:
    for sample in every_sample():
        raw, build = written("ada@example.com", sample.email, MOMENT, **links)
        assert raw is not None, sample.kind
        same_as_the_package(raw, build)


HOSTILE = [
    Message("Héllo", "t", "<p>h</p>"),
    Message("=?utf-8?q?x?=", "t", "h"),
    Message("", "", ""),
    Message("x" * 90, "t", "h"),
    Message("a  b", "line\r\nx", "h"),
    Message("s", "ü" * 100, "é\n" * 30),
    Message("s", "a" * 100 + "\nb", "c" * 200),
    Message("s", "\u2028x", "y"),
    Message("s", "x\x0cy", "y"),
    Message("s", "--===============1234567890123456789==", "x"),
    Message("s", "😀 emoji " * 20, "😀"),
]
ADDRESSES = ["ada@example.com", "Ada <ada@example.com>", "a..b@example.com", "ü@example.com"]
DATES = [MOMENT, datetime(2026, 1, 2, tzinfo=timezone(timedelta(hours=-5))), datetime(2026, 1, 2)]


@pytest.mark.parametrize("message", HOSTILE)
def test_what_is_written_is_the_packages_and_what_could_differ_is_left_to_it(
    message: Message,
) -> None:
    for to in ADDRESSES:
        for date in DATES:
            for unsubscribe in (None, UNSUBSCRIBE, UNSUBSCRIBE + "x" * 60):
                raw, build = written(to, message, date, unsubscribe_url=unsubscribe)
                if raw is not None:
                    same_as_the_package(raw, build)


def test_random_text_is_written_as_the_package_writes_it_whenever_it_is_written() -> None:
    rng = random.Random(14)
    alphabet = "abc XYZ 019 .,;:<>&\"'=?-_\n\n\n" + "éü—😀"
    kept = 0
    for _ in range(400):

        def text(longest: int) -> str:
            size = rng.randint(0, longest)
            return "".join(
                rng.choice(alphabet) if rng.random() < 0.3 else rng.choice("abcdefgh ")
                for _ in range(size)
            )

        message = Message(text(60), text(rng.choice((50, 300, 3000))), text(3000))
        raw, build = written("ada@example.com", message, unsubscribe_url=UNSUBSCRIBE, thread=THREAD)
        if raw is not None:
            kept += 1
            same_as_the_package(raw, build)
    assert kept > 100  # the comparison ran on 7-bit, 8-bit, quoted-printable and base64
