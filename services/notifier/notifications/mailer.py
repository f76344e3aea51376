"""Email through a real SMTP client to the configured server."""

import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from rapport_common.db import utcnow
from rapport_common.settings import SmtpSettings
from services.notifier.errors import TransientError
from services.notifier.notifications.messages import Message

MESSAGE_ID_DOMAIN = "rapport.example"


def build_email(
    settings: SmtpSettings, to: str, message: Message, notification_id: uuid.UUID
) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.sender
    email["To"] = to
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    # One notification, one Message-ID: a receiver can tell a resend from a new message.
    email["Message-ID"] = make_msgid(idstring=str(notification_id), domain=MESSAGE_ID_DOMAIN)
    email["X-Rapport-Notification"] = str(notification_id)
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    return email


async def send(settings: SmtpSettings, email: EmailMessage) -> None:
    try:
        await aiosmtplib.send(
            email, hostname=settings.host, port=settings.port, timeout=settings.timeout_seconds
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise TransientError(f"SMTP server at {settings.host}:{settings.port}: {exc}") from exc
