"""Every kind of email with sample facts, as its reader would get it: for the people who
write the texts (``rapport emails preview DIR``) and for the tests that check every
kind (parity of the two parts, escaping, the look in a browser).

The samples are fixed (names, dates, ids, links), so a preview or a screenshot changes
only when a text or a template does.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rapport_common.domain import notification_kinds, preference_links
from rapport_common.settings import ApiSettings, Settings, WebSettings
from services.notifier.notifications import catalogue, links
from services.notifier.notifications.join_emails import JOIN_EMAIL, join_footer
from services.notifier.notifications.layout import as_email
from services.notifier.notifications.messages import Fact, Gathered, Message, Recipient, compose

SETTINGS = Settings(
    api=ApiSettings(public_url="https://api.rapport.example"),
    web=WebSettings(app_url="https://app.rapport.example"),
)
MEMBER_ID = uuid.UUID("00000000-0000-4000-8000-00000000ada0")
ID = "0b9e6f4c-3a57-4d2e-9c11-5f0e2d7a8b41"
MOMENT = datetime(2026, 12, 17, 18, 0, tzinfo=UTC)
SIGNED = "https://api.rapport.example/account/verify-email?token=sample-single-use-token"

# Facts every kind may use; each kind's template picks what it shows.
FACTS: Mapping[str, Fact] = {
    "inviter": "Grace Hopper",
    "inviter_headline": "Rear Admiral, US Navy",
    "invitee": "Katherine Johnson",
    "invitee_headline": "Mathematician at NASA",
    "note": (
        "Thank you for reaching out, Ada! I keep my network to people I have met, so "
        "let's meet first: coffee next time you are in Hampton?\nThen I will gladly connect."
    ),
    "how_we_met": "you met at an event",
    "question": "Where did we meet? I would like to place you.",
    "expires_at": MOMENT,
    "referrer": "Alan Turing",
    "outcome": "confirmed",
    "requester": "Tim Berners-Lee",
    "intermediary": "Alan Turing",
    "target": "Grace Hopper",
    "intermediary_note": "Tim is building something you will like; you two should talk.",
    "declined_by": "target",
    "author": "Alan Turing",
    "subject": "Ada Lovelace",
    "body": "Ada sees what a machine could do before anyone else does.",
    "other": "Alan Turing",
    "rating": "9",
    "days": "62",
    "effective": "6.8",
    "url": "https://crm.example.com/rapport/hooks",
    "reason": "The receiver answered 410 Gone, which asks us to stop sending.",
    "date": "December 17, 2026",
    "valid_until": MOMENT,
    "email": "ada@new.example.com",
    "address": "ada@old.example.com",
}
# What differs by kind: an invitation's note is not a decline's.
KIND_FACTS: Mapping[str, Mapping[str, Fact]] = {
    "invitation_received": {
        "note": "I loved your notes on the Analytical Engine. Could we stay in touch?"
    },
    "join_email": {"note": "Coffee again soon? I would love to have you on Rapport."},
    "introduction_requested": {"note": "I am working on hypertext; Grace's advice would help."},
}
DATA = {
    "invitation_id": ID,
    "introduction_id": ID,
    "recommendation_id": ID,
    "member_id": ID,
    "endpoint_id": ID,
}
SIGNED_LINKS = {
    "export_ready": "https://api.rapport.example/v1/me/exports/sample/download?token=signed",
    "join_email": "https://api.rapport.example/v1/join/sample-signed-token",
}
STOP_URL = "https://api.rapport.example/v1/do-not-contact/sample-signed-token"


@dataclass(frozen=True)
class Sample:
    kind: str
    locale: str
    email: Message
    # The message as stored (what the feed shows), before the layout.
    message: Message
    action_url: str | None


def _digest_items(reader: Recipient, folder: Path) -> list[Gathered]:
    gathered = []
    for kind in ("invitation_received", "question_answered"):
        stored = compose(kind, FACTS, reader, folder, _links(kind))
        gathered.append(Gathered(stored.subject, "Received Dec 16, 2026", stored.html, stored.text))
    return gathered


def _links(kind: str) -> dict[str, str]:
    url = SIGNED_LINKS.get(kind)
    if url is None and kind.startswith("account_"):
        url = SIGNED
    url = url or links.action_url(SETTINGS, kind, DATA)
    return {"action": url} if url else {}


def sample(kind: str, locale: str = catalogue.DEFAULT_LOCALE, **facts: Fact) -> Sample:
    """``kind``'s email in ``locale`` with the sample facts (or these ``facts``)."""
    folder = catalogue.FOLDER
    reader = Recipient("Ada", locale=locale, time_zone="Europe/London")
    items = _digest_items(reader, folder) if kind == notification_kinds.DIGEST else []
    chosen = {**FACTS, **KIND_FACTS.get(kind, {}), **facts}
    message = compose(kind, chosen, reader, folder, _links(kind), items)
    if kind == JOIN_EMAIL:
        stranger = Recipient("", locale)
        footer = join_footer(str(FACTS["inviter"]), STOP_URL, stranger)
        email = as_email(message, stranger, None, folder, footer, greet=False)
    else:
        settings_url = None
        if notification_kinds.has_unsubscribe(kind):
            settings_url = preference_links.settings_url(SETTINGS, MEMBER_ID, kind)
        email = as_email(message, reader, settings_url, folder)
    return Sample(kind, locale, email, message, _links(kind).get("action"))


def every_sample() -> list[Sample]:
    """Every kind in every shipped language."""
    return [
        sample(kind, locale) for locale in catalogue.locales() for kind in sorted(catalogue.kinds())
    ]


def write_previews(folder: Path) -> list[Path]:
    """Each sample as ``<locale>/<kind>.html`` and ``.txt`` (with its subject first)."""
    written = []
    for found in every_sample():
        target = folder / found.locale
        target.mkdir(parents=True, exist_ok=True)
        html = target / f"{found.kind}.html"
        html.write_text(found.email.html, encoding="utf-8")
        text = target / f"{found.kind}.txt"
        text.write_text(f"Subject: {found.email.subject}\n\n{found.email.text}", encoding="utf-8")
        written += [html, text]
    return written
