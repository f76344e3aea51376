"""Failover drills: real PostgreSQL and Redis servers of their own (spare ports, temporary
folders; the test stack's stores are left alone), a primary taken away under load, a
standby or replica taking over, and the services finding it by themselves. Each drill
prints what it measured (docs/operations.md quotes them).

They are marked ``drills``: ``-m "not drills"`` leaves them out."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.drills.servers import spare_port
from tests.recovery.conftest import CountingSmtp


class TimedSmtp(CountingSmtp):
    """CountingSmtp that also notes when each message arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.received_at: list[tuple[str, float]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        self.received_at.append((self.received[-1], time.monotonic()))
        return answer


@pytest.fixture
async def timed_smtp() -> AsyncIterator[tuple[TimedSmtp, int]]:
    handler = TimedSmtp()
    port = spare_port()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="timed-smtp"), "127.0.0.1", port
    )
    yield handler, port
    server.close()
    await server.wait_closed()
