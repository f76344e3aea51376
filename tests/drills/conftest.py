"""Failover drills: real PostgreSQL and Redis servers of their own (spare ports, temporary
folders; the test stack's stores are left alone), a primary taken away under load, a
standby or replica taking over, and the services finding it by themselves. Each drill
prints what it measured (docs/operations.md quotes them).

They are marked ``drills``: ``-m "not drills"`` leaves them out."""

import time
from collections.abc import AsyncIterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.processes import CountingSmtp, smtp_server


class TimedSmtp(CountingSmtp):
    """CountingSmtp that also notes when each message arrived."""

    def __init__(self) -> None:
        super().__init__(delay=0.1)
        self.received_at: list[tuple[str, float]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        counted = len(self.received)
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) > counted:  # a notification's email, not an account email
            self.received_at.append((self.received[-1], time.monotonic()))
        return answer


@pytest.fixture
async def timed_smtp() -> AsyncIterator[tuple[TimedSmtp, int]]:
    handler = TimedSmtp()
    async with smtp_server(handler) as port:
        yield handler, port
