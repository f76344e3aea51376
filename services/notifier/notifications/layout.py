"""How an email wraps a message: the greeting by the member's given name, the message,
and a footer with the link to change or stop that kind of email (or, for an account
email, why it is always sent). Texts from the catalogue's ``_email`` phrases, in the
member's language. The stored notification holds the message alone, which the in-app
feed shows as it is."""

import html
from pathlib import Path
from string import Template

from services.notifier.notifications import catalogue
from services.notifier.notifications.messages import Message, Recipient


def _phrase(name: str, reader: Recipient, folder: Path) -> str:
    return catalogue.phrase("_email", name, reader.locale, folder)


def as_email(
    message: Message,
    reader: Recipient,
    settings_url: str | None,
    folder: Path = catalogue.FOLDER,
) -> Message:
    """``message`` as the email ``reader`` gets; ``settings_url`` is the page that
    changes this kind of email for them, ``None`` for one that is always sent."""
    greeting = Template(_phrase("greeting", reader, folder)).safe_substitute(
        first_name=reader.first_name
    )
    if settings_url is None:
        footer_text = _phrase("essential_footer", reader, folder)
        footer_html = f"<p>{html.escape(footer_text)}</p>"
    else:
        footer_text = f"{_phrase('footer', reader, folder)} {settings_url}"
        footer_html = (
            f'<p><a href="{html.escape(settings_url)}">'
            f"{html.escape(_phrase('settings_link', reader, folder))}</a></p>"
        )
    language = html.escape(reader.babel_locale.language)
    return Message(
        subject=message.subject,
        text=f"{greeting}\n\n{message.text}\n\n-- \n{footer_text}\n",
        html=(
            f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{html.escape(message.subject)}</title></head><body>"
            f"<p>{html.escape(greeting)}</p>{message.html}<hr>{footer_html}</body></html>"
        ),
    )
