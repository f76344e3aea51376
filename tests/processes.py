"""Real processes and servers for the tests that need more than the in-process apps: a
spare port, a service run as a process, and an SMTP server that counts what it gets."""

import asyncio
import email
import email.policy
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(
    args: list[str], env: dict[str, str], log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``args`` as a process with the test's environment plus ``env`` (its output in
    ``log``, or discarded), killed at the end if it still runs."""
    with open(log or os.devnull, "ab") as output:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
            args, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


class CountingSmtp:
    """Accepts every message, after ``delay`` seconds (a slow server widens the window
    a crash can land in), and remembers the notification id of each (``received``; the
    account emails have none) and every Message-ID (``message_ids``)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[str] = []
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        self.message_ids.append(str(message["Message-ID"]))
        if message["X-Rapport-Notification"] is not None:
            self.received.append(str(message["X-Rapport-Notification"]))
        return "250 OK"


@asynccontextmanager
async def smtp_server(handler: CountingSmtp) -> AsyncIterator[int]:
    """Serve ``handler`` on a spare loopback port; yields the port."""
    port = free_port()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="test-smtp"), "127.0.0.1", port
    )
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()
