"""Email through a real SMTP client to the configured server, over kept-open connections."""

import asyncio
import contextlib
import socket
import uuid
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid

import aiosmtplib

from rapport_common.metrics import EMAILS
from rapport_common.settings import SmtpSettings
from services.notifier.errors import TransientError
from services.notifier.notifications.messages import Message, one_line
from services.notifier.notifications.mime import MESSAGE_ID_DOMAIN, RawEmail, UnfoldedUrlHeader

# What the mailer sends: a message the SMTP client writes out, or one written already.
Email = EmailMessage | RawEmail
# At most this many SMTP connections at once: enough to keep the worker's jobs busy
# (composing and recording an email costs more than its SMTP exchange on a reused
# connection), few enough not to look like a flood to the server.
MAX_CONNECTIONS = 8


class _KeptHeaderClasses(HeaderRegistry):
    """The standard header registry, keeping the class it makes for each header name:
    the standard one makes a new class (``type(...)``) for every header set, about a
    tenth of an email's building time."""

    def __init__(self) -> None:
        super().__init__()
        self.map_to_type("list-unsubscribe", UnfoldedUrlHeader)
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# The default policy (what EmailMessage uses), with the header classes kept.
POLICY = default_policy.clone(header_factory=_KeptHeaderClasses())


class Undeliverable(Exception):
    """This email will never be sent as it stands: it cannot be written (an address no
    header can hold), or the SMTP server refused it for good (a 5xx reply)."""


class RefusedForNow(TransientError):
    """The server refused this one email for now (a 4xx reply); others may still go."""


def build_email(
    settings: SmtpSettings,
    to: str,
    message: Message,
    notification_id: uuid.UUID,
    date: datetime,
    unsubscribe_url: str | None = None,
    thread: str | None = None,
) -> EmailMessage:
    """The email, whatever the stored text holds; ``Undeliverable`` if the address cannot
    be written in a header.

    Every email says it was sent by a machine (``Auto-Submitted``, RFC 3834), so no
    auto-responder answers it. With ``unsubscribe_url`` (every kind a member may switch
    off) it carries the one-click unsubscribe of RFC 8058: mail clients show an
    "Unsubscribe" button that POSTs ``List-Unsubscribe=One-Click`` to that URL. The
    account emails, which are always sent, go without: a button that cannot stop them
    would be a broken promise. Other emails of the notifier use ``automated_headers``.

    With ``thread`` (the Message-ID root of an invitation or introduction,
    ``links.thread_root``) it says ``In-Reply-To`` and ``References`` that root, so the
    emails about one invitation show as one conversation. It is From the configured
    sender and has no Reply-To: no member's address is ever in an email's headers but
    the recipient's own."""
    email = EmailMessage(policy=POLICY)
    email["From"] = settings.sender  # configuration: an error here is not this email's
    try:
        email["To"] = to
    except (ValueError, MessageError) as exc:
        raise Undeliverable(f"the address {to!r} cannot be written in an email ({exc})") from exc
    # The subject was stored from member-written text, perhaps before it was checked.
    email["Subject"] = one_line(message.subject)
    email["Date"] = format_datetime(date)
    # One notification, one Message-ID: a receiver can tell a resend from a new message.
    email["Message-ID"] = make_msgid(idstring=str(notification_id), domain=MESSAGE_ID_DOMAIN)
    email["X-Rapport-Notification"] = str(notification_id)
    if thread is not None:
        email["In-Reply-To"] = thread
        email["References"] = thread
    automated_headers(email, unsubscribe_url)
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    return email


def automated_headers(email: EmailMessage, unsubscribe_url: str | None = None) -> None:
    """The headers of every email Rapport sends by itself: ``Auto-Submitted:
    auto-generated``, and with ``unsubscribe_url`` the RFC 8058 pair
    ``List-Unsubscribe: <url>`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
    (the URL must be HTTPS in production, take a POST without cookies and stop that kind
    of email at once)."""
    email["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url is not None:
        email["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def _refused(code: int, reply: str) -> Exception:
    if code >= 500:
        return Undeliverable(f"the SMTP server refused it: {code} {reply}")
    return RefusedForNow(f"the SMTP server refused it for now: {code} {reply}")


async def _transmit(client: aiosmtplib.SMTP, email: Email) -> None:
    """One email over ``client``: a written one as ``send_message`` would send the
    message it was written from (``BODY=8BITMIME`` when the server has it)."""
    if isinstance(email, EmailMessage):
        await client.send_message(email)
        return
    await client._ehlo_or_helo_if_needed()  # as send_message does first
    if client.supports_extension("8BITMIME"):
        options = ["BODY=8BITMIME"]
    elif not email.eight_bit:
        options = []
    else:
        # Its 8-bit parts must be encoded again for this server: the client does that.
        await client.send_message(email.build())
        return
    await client.sendmail(email.sender, email.recipients, email.data, mail_options=options)


class Mailer:
    """Sends over a few SMTP connections kept open between emails, instead of a
    connection (connect, EHLO, QUIT) per email.

    A connection is opened when first needed, dropped after any error and opened again
    for the next email; one the server closed while idle is noticed before it is used.
    Each connection carries one email at a time.
    """

    def __init__(self, settings: SmtpSettings, size: int = MAX_CONNECTIONS) -> None:
        self.settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(max(1, min(size, MAX_CONNECTIONS)))
        # Looked up once: aiosmtplib would otherwise call getfqdn in a thread per connect.
        self._local_hostname: str | None = None

    async def send(self, email: Email) -> None:
        """Send one email. ``Undeliverable`` and ``RefusedForNow`` concern this email
        alone; any other ``TransientError`` means the server cannot be used right now."""
        try:
            await self._send_counted(email)
        except Undeliverable:
            EMAILS.labels("refused_for_good").inc()
            raise
        except RefusedForNow:
            EMAILS.labels("refused_for_now").inc()
            raise
        except TransientError:
            EMAILS.labels("server_unreachable").inc()
            raise
        EMAILS.labels("sent").inc()

    async def _send_counted(self, email: Email) -> None:
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                client = await self._send(client, email)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                mildest = min(exc.recipients, key=lambda refusal: refusal.code)
                raise _refused(mildest.code, mildest.message) from exc
            except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as exc:
                raise _refused(exc.code, exc.message) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise TransientError(
                    f"SMTP server at {self.settings.host}:{self.settings.port}: {exc}"
                ) from exc
            self._idle.append(client)

    async def _send(self, client: aiosmtplib.SMTP | None, email: Email) -> aiosmtplib.SMTP:
        """Send on ``client`` (or a new connection); the connection is closed unless the
        server accepted the email."""
        reused = client is not None and client.is_connected
        current = client
        try:
            current = await self._ready(client)
            try:
                await _transmit(current, email)
            except aiosmtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # A kept connection the server dropped while it sat idle fails at its
                # first command: one fresh connection tries again.
                current.close()
                current = await self._ready(None)
                await _transmit(current, email)
        except BaseException:
            if current is not None:
                current.close()
            raise
        return current

    async def _ready(self, client: aiosmtplib.SMTP | None) -> aiosmtplib.SMTP:
        if client is not None and client.is_connected:
            return client
        if client is not None:
            client.close()
        if self._local_hostname is None:
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        fresh = aiosmtplib.SMTP(
            hostname=self.settings.host,
            port=self.settings.port,
            timeout=self.settings.timeout_seconds,
            local_hostname=self._local_hostname,
        )
        await fresh.connect()
        return fresh

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
            client.close()
