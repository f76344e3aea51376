"""Messages are written for their reader: moments in their time zone, written as their
locale writes them, texts from the catalogue of their language, their given name."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

from rapport_common.settings import SmtpSettings
from services.notifier.notifications import catalogue
from services.notifier.notifications.layout import as_email
from services.notifier.notifications.mailer import build_email
from services.notifier.notifications.messages import Fact, Message, Recipient, compose

DEADLINE = datetime(2026, 12, 17, 9, 0, tzinfo=UTC)
FRENCH = """
[question_asked]
subject = "$invitee a une question avant de vous accepter"
body = "$invitee demande : $question\\n\\nRépondez avant le $expires_at."

[_email]
greeting = "Bonjour $first_name,"
"""


def test_a_deadline_is_shown_in_the_readers_zone_and_locale() -> None:
    tokyo = Recipient("Ada", locale="en-GB", time_zone="Asia/Tokyo")
    message = compose("question_asked", {"invitee": "Bob", "expires_at": DEADLINE}, tokyo)
    assert "Answer it before 17 Dec 2026, 18:00 (Japan Time)" in message.text


def test_a_reader_without_zone_or_locale_reads_utc_in_english() -> None:
    message = compose("question_asked", {"expires_at": DEADLINE}, Recipient("Ada"))
    # CLDR puts a narrow no-break space before AM.
    assert "Dec 17, 2026, 9:00\u202fAM (UTC)" in message.text


def test_an_unknown_locale_or_zone_falls_back_instead_of_failing() -> None:
    odd = Recipient("Ada", locale="zz-QQ", time_zone="Mars/Olympus")
    message = compose("question_asked", {"expires_at": DEADLINE}, odd)
    assert "Dec 17, 2026, 9:00\u202fAM (UTC)" in message.text


def test_a_second_catalogue_is_picked_up_without_code_changes(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text((catalogue.FOLDER / "en.toml").read_text())
    (tmp_path / "fr.toml").write_text(FRENCH)
    paris = Recipient("Ada", locale="fr-CA", time_zone="Europe/Paris")
    facts: dict[str, Fact] = {"invitee": "Bob", "question": "Où ?", "expires_at": DEADLINE}
    message = compose("question_asked", facts, paris, folder=tmp_path)
    assert message.subject == "Bob a une question avant de vous accepter"
    # Canadian French writes hours its own way; the zone is named in French.
    assert (
        "Répondez avant le 17 déc. 2026, 10 h 00 (heure de l\u2019Europe centrale)" in message.text
    )
    email = as_email(message, paris, "https://rapport.example/p", folder=tmp_path)
    assert email.text.startswith("Bonjour Ada,")
    # What French lacks reads in English.
    assert compose("nudge", {"other": "Bob"}, paris, folder=tmp_path).subject == (
        "Reconnect with Bob?"
    )


def test_an_email_greets_the_reader_by_given_name_and_links_to_the_kinds_settings() -> None:
    message = compose("nudge", {"other": "Bob"}, Recipient("Ada"))
    email = as_email(message, Recipient("Ada"), "https://rapport.example/p?a=1&b=2")
    assert email.text.startswith("Hi Ada,\n\n")
    assert "https://rapport.example/p?a=1&b=2" in email.text
    assert 'href="https://rapport.example/p?a=1&amp;b=2"' in email.html
    assert '<html lang="en">' in email.html
    assert "/docs" not in email.text + email.html


def test_an_account_email_says_it_is_always_sent_and_has_no_settings_link() -> None:
    email = as_email(Message("Verify", "Follow the link.", "<p>x</p>"), Recipient("Ada"), None)
    assert "always sends these" in email.text
    assert "href" not in email.html


def test_the_one_click_unsubscribe_headers_come_with_an_unsubscribe_url() -> None:
    message = Message("Hello", "Hello.", "<p>Hello.</p>")
    moment = datetime(2031, 3, 4, tzinfo=UTC)
    url = "https://rapport.example/v1/email-preferences/t"
    email = build_email(SmtpSettings(), "a@example.com", message, uuid.uuid4(), moment, url)
    assert email["List-Unsubscribe"] == f"<{url}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Auto-Submitted"] == "auto-generated"
    plain = build_email(SmtpSettings(), "a@example.com", message, uuid.uuid4(), moment)
    assert plain["List-Unsubscribe"] is None
    assert plain["Auto-Submitted"] == "auto-generated"
