"""Email headers are written safely from whatever text is stored."""

import uuid
from datetime import UTC, datetime

import pytest

from rapport_common.settings import SmtpSettings
from services.notifier.notifications.mailer import Undeliverable, build_email
from services.notifier.notifications.messages import Message, Recipient, compose, one_line

MOMENT = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
LINE_BREAKERS = ["\r", "\n", "\r\n", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x00", "\t"]


@pytest.mark.parametrize("breaker", LINE_BREAKERS, ids=[repr(b) for b in LINE_BREAKERS])
def test_one_line_turns_each_control_character_or_line_separator_into_a_space(
    breaker: str,
) -> None:
    assert one_line(f"Bob{breaker}Bcc: mallory@example.com") == "Bob Bcc: mallory@example.com"


def test_a_subject_from_a_hostile_name_is_composed_on_one_line() -> None:
    facts = {"invitee": "Bob\r\nBcc: m@x", "note": "n"}
    message = compose("invitation_declined", facts, Recipient("Ada"))
    assert message.subject == "A note from Bob Bcc: m@x"


def test_an_email_is_built_from_a_subject_stored_with_line_breaks() -> None:
    stored = Message("A note from Bob\r\nBcc: mallory@example.com", "Not now.", "<p>Not now.</p>")
    email = build_email(SmtpSettings(), "ada@example.com", stored, uuid.uuid4(), MOMENT)
    assert email["Subject"] == "A note from Bob Bcc: mallory@example.com"
    assert email["Bcc"] is None


def test_an_address_no_header_can_hold_is_undeliverable() -> None:
    stored = Message("Hello", "Hello.", "<p>Hello.</p>")
    with pytest.raises(Undeliverable, match="cannot be written in an email"):
        build_email(SmtpSettings(), "ada@example.com\r\nBcc: m@x", stored, uuid.uuid4(), MOMENT)
