"""How an email wraps a message: the greeting by the member's given name, the message,
and a footer with the link to change or stop that kind of email (or, for an account
email, why it is always sent), in the base layout (``templates/base.html`` and
``base.txt``). Texts from the catalogue's ``_email`` phrases, in the member's language.
The stored notification holds the message alone, which the in-app feed shows as it is.
"""

from dataclasses import dataclass
from pathlib import Path
from string import Template

from services.notifier.notifications import catalogue, rendering
from services.notifier.notifications.messages import Message, Recipient

PREHEADER_LENGTH = 140


@dataclass(frozen=True)
class Footer:
    """The end of an email: a sentence, and a link with its label (HTML) and the words
    before its address (text)."""

    note: str = ""
    url: str | None = None
    link_text: str = ""
    link_intro: str = ""


def _phrase(name: str, reader: Recipient, folder: Path) -> str:
    return catalogue.phrase("_email", name, reader.locale, folder)


def preference_footer(reader: Recipient, settings_url: str | None, folder: Path) -> Footer:
    """The footer of a member's email: the link to the page that changes this kind of
    email, or, for one that is always sent (``settings_url`` is ``None``), why."""
    if settings_url is None:
        return Footer(note=_phrase("essential_footer", reader, folder))
    return Footer(
        url=settings_url,
        link_text=_phrase("settings_link", reader, folder),
        link_intro=_phrase("footer", reader, folder),
    )


def _preheader(text: str) -> str:
    """What an inbox shows after the subject: the message's first lines, in short."""
    first = " ".join(text.replace(">", " ").split())
    return first if len(first) <= PREHEADER_LENGTH else first[: PREHEADER_LENGTH - 1] + "…"


def as_email(
    message: Message,
    reader: Recipient,
    settings_url: str | None,
    folder: Path = catalogue.FOLDER,
    footer: Footer | None = None,
    greet: bool = True,
) -> Message:
    """``message`` as the email ``reader`` gets; ``settings_url`` is the page that
    changes this kind of email for them, ``None`` for one that is always sent. An email
    to someone who is no member (``greet=False``) has its own ``footer``."""
    greeting = ""
    if greet:
        greeting = Template(_phrase("greeting", reader, folder)).safe_substitute(
            first_name=reader.first_name
        )
    locale = reader.babel_locale
    html, text = rendering.render_layout(
        {
            "lang": str(locale).replace("_", "-"),
            "direction": locale.text_direction,
            "subject": message.subject,
            "preheader": _preheader(message.text),
            "greeting": greeting,
            "content": message.text,
            "footer": footer or preference_footer(reader, settings_url, folder),
        },
        message.html,
    )
    return Message(subject=message.subject, text=text, html=html)
