"""The unsent-email sweep goes past an email that cannot be sent: it is given up with its
reason, and the ones behind it still go out."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.members import Member
from rapport_common.models.notifications import Notification
from rapport_common.settings import Settings
from services.notifier.notifications import crons
from services.notifier.notifications.mailer import Mailer
from tests.factories import SignedIn, sign_in_all
from tests.notifier.conftest import Mailbox

Sessions = async_sessionmaker[AsyncSession]


async def _stored(db: Sessions, member: SignedIn, created_at: datetime) -> uuid.UUID:
    """A notification whose email its job never sent."""
    notification_id = uuid.uuid4()
    async with db() as session, session.begin():
        session.add(
            Notification(
                id=notification_id,
                member_id=member.member_id,
                kind="invitation_back",
                dedupe_key=f"test:{notification_id}",
                subject="Time to decide",
                body_text="It is back in your inbox.",
                body_html="<p>It is back in your inbox.</p>",
                created_at=created_at,
            )
        )
    return notification_id


async def _row(db: Sessions, notification_id: uuid.UUID) -> Notification:
    async with db() as session:
        row = await session.get(Notification, notification_id)
    assert row is not None
    return row


async def test_the_sweep_gives_up_an_email_that_cannot_be_written_and_sends_the_next(
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    worker_ctx: dict[str, Any],
    mailbox: Mailbox,
) -> None:
    bob, carol = await sign_in_all(committed_client, "Bob", "Carol")
    async with committed_db() as session, session.begin():
        # Stored before addresses were checked; no header can hold it.
        await session.execute(
            update(Member).where(Member.id == bob.member_id).values(email="bob\r\n@example.com")
        )
    long_ago = worker_ctx["clock"]() - timedelta(minutes=5)
    stuck = await _stored(committed_db, bob, long_ago)
    behind = await _stored(committed_db, carol, long_ago + timedelta(seconds=1))

    assert await crons.send_unsent_emails(worker_ctx) == 1

    given_up = await _row(committed_db, stuck)
    assert given_up.emailed_at is None and given_up.email_failed_at is not None
    assert "cannot be written in an email" in (given_up.email_error or "")
    assert (await _row(committed_db, behind)).emailed_at is not None
    assert len(mailbox.messages_to(carol.email)) == 1
    assert await crons.send_unsent_emails(worker_ctx) == 0
    assert (await _row(committed_db, stuck)).email_attempts == 1


class PickySmtp:
    """A real SMTP server that refuses some recipients, for good or for now."""

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies
        self.accepted: list[str] = []

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        reply = self.replies.get(address.split("@")[0], "250 OK")
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.accepted.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
async def picky_smtp() -> AsyncIterator[tuple[PickySmtp, int]]:
    handler = PickySmtp({"gone": "550 5.1.1 no such mailbox", "full": "452 4.2.2 mailbox full"})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="picky-smtp"), "127.0.0.1", port
    )
    yield handler, port
    server.close()
    await server.wait_closed()


async def test_the_sweep_gives_up_a_refused_email_and_retries_one_refused_for_now(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    worker_ctx: dict[str, Any],
    picky_smtp: tuple[PickySmtp, int],
) -> None:
    smtp, port = picky_smtp
    worker_ctx["mailer"] = Mailer(settings.smtp.model_copy(update={"port": port}))
    gone, full, fine = [
        (await sign_in_all(committed_client, name))[0] for name in ("Gone", "Full", "Fine")
    ]
    async with committed_db() as session, session.begin():
        for member, local_part in ((gone, "gone"), (full, "full")):
            await session.execute(
                update(Member)
                .where(Member.id == member.member_id)
                .values(email=f"{local_part}@example.com")
            )
    long_ago = worker_ctx["clock"]() - timedelta(minutes=5)
    refused, deferred, sent = [
        await _stored(committed_db, member, long_ago + timedelta(seconds=n))
        for n, member in enumerate((gone, full, fine))
    ]
    try:
        assert await crons.send_unsent_emails(worker_ctx) == 1
    finally:
        await worker_ctx["mailer"].close()

    given_up = await _row(committed_db, refused)
    assert given_up.email_failed_at is not None
    assert (given_up.email_error or "").startswith("the SMTP server refused it: 550")
    later = await _row(committed_db, deferred)
    assert later.email_failed_at is None and later.emailed_at is None
    assert (later.email_error or "").startswith("the SMTP server refused it for now: 452")
    assert (await _row(committed_db, sent)).emailed_at is not None
    assert smtp.accepted == [fine.email]
