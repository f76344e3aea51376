"""A worker killed with SIGKILL in the middle of its jobs loses nothing, and sends no
second copy of an email it had recorded as sent.

Everything here is a real process: the notifier worker and the graph service run as
subprocesses, mail goes over SMTP to a slow (but real) SMTP server in this test, so the
kill lands while emails are going out.
"""

import asyncio
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.notifications import Notification
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from tests.conftest import eventually
from tests.factories import invitation_id, sign_in, sign_in_all

DECLINES = 30


class SlowSmtp:
    """Accepts each message after a short pause and remembers its notification id."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        await asyncio.sleep(0.15)
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.received.append(str(message["X-Rapport-Notification"]))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


@pytest.fixture
async def slow_smtp() -> AsyncIterator[tuple[SlowSmtp, int]]:
    handler = SlowSmtp()
    port = _free_port()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="slow-smtp"), "127.0.0.1", port
    )
    yield handler, port
    server.close()
    await server.wait_closed()


async def test_a_killed_worker_loses_nothing_and_resends_nothing_recorded_as_sent(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    slow_smtp: tuple[SlowSmtp, int],
) -> None:
    smtp, smtp_port = slow_smtp
    graph_port = _free_port()
    env = {
        **os.environ,
        "RAPPORT_POSTGRES__DATABASE": settings.postgres.database,
        "RAPPORT_SMTP__PORT": str(smtp_port),
        "RAPPORT_GRAPH__URL": f"http://127.0.0.1:{graph_port}",
        "RAPPORT_WORKER__MAX_JOBS": "2",
        "RAPPORT_WORKER__JOB_TIMEOUT_SECONDS": "2",
        "RAPPORT_LOG_LEVEL": "WARNING",
    }
    inviter = await sign_in(committed_client, "Ada")
    invitees = await sign_in_all(committed_client, *(f"Invitee {n}" for n in range(DECLINES)))
    # All sent before any is declined, so the sender is not throttled halfway.
    sent = [await invitation_id(committed_client, inviter, invitee) for invitee in invitees]
    for invitation, invitee in zip(sent, invitees, strict=True):
        await committed_client.post(
            f"/v1/invitations/{invitation}/decline", headers=invitee.headers
        )

    async def sent_declines() -> set[str]:
        async with committed_db() as session:
            rows = await session.execute(
                select(Notification.id).where(
                    Notification.kind == "invitation_declined", Notification.emailed_at.is_not(None)
                )
            )
            return {str(row) for row in rows.scalars()}

    graph = [
        sys.executable,
        "-m",
        "uvicorn",
        "services.graph.main:build",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(graph_port),
    ]
    worker = [sys.executable, "-m", "services.notifier"]
    with _process(graph, env):
        with _process(worker, env) as first:
            await eventually(lambda: _at_least(sent_declines, 5), within=60)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        recorded_before_kill = await sent_declines()
        assert len(recorded_before_kill) < DECLINES, "the kill came too late to test anything"
        with _process(worker, env):
            await eventually(lambda: _at_least(sent_declines, DECLINES), within=90)
            await eventually(lambda: _all_events_completed(committed_db), within=60)

    async with committed_db() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "invitation_declined")
        )
    assert stored == DECLINES
    for notification_id in recorded_before_kill:
        assert smtp.received.count(notification_id) == 1
    assert set(smtp.received) >= await sent_declines()


async def _at_least(check: object, count: int) -> bool:
    found = await check()  # type: ignore[operator]
    return len(found) >= count


async def _all_events_completed(db: async_sessionmaker[AsyncSession]) -> bool:
    async with db() as session:
        pending = await session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.completed_at.is_(None))
        )
    return pending == 0
