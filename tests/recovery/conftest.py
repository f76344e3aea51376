"""Fault drills on the real test stack: a store or a process is killed or stopped through
``deploy/local/stack.sh`` (the stack's own processes), and brought back before the test
ends, so the tests after them find the stack as it was.

They are marked ``faults``: ``-m "not faults"`` leaves them out, and they run one after
the other like every test of the session (never alongside another test that needs the
store they stop).
"""

import asyncio
import email
import email.policy
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

STACK_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "stack.sh"
# How soon after a store answers again every service must be ready (issue 14).
READY_WITHIN_SECONDS = 30.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: kills or stops a store or a process of the test stack, then heals it"
    )


async def stack(*args: str) -> str:
    """Run ``stack.sh ARGS`` on this test stack (RAPPORT_STACK comes from ``make test``);
    return its output, fail the test if it fails."""
    process = await asyncio.create_subprocess_exec(
        "bash",
        str(STACK_SCRIPT),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode()
    assert process.returncode == 0, f"stack.sh {' '.join(args)} failed: {text}"
    return text


async def stack_status() -> tuple[int, str]:
    """``stack.sh status``: its exit code (1 when a part is dead or orphaned) and lines."""
    process = await asyncio.create_subprocess_exec(
        "bash", str(STACK_SCRIPT), "status", stdout=asyncio.subprocess.PIPE
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def http_status(url: str) -> int | None:
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            return (await client.get(url)).status_code
    except httpx.HTTPError:
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A service as a real process (output in ``log``), killed at the end."""
    with log.open("ab") as output:
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
    """Accepts each message after a short pause and remembers its notification id."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        await asyncio.sleep(0.1)
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        self.received.append(str(message["X-Rapport-Notification"]))
        return "250 OK"


@pytest.fixture
async def counting_smtp() -> AsyncIterator[tuple[CountingSmtp, int]]:
    handler = CountingSmtp()
    port = free_port()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="counting-smtp"), "127.0.0.1", port
    )
    yield handler, port
    server.close()
    await server.wait_closed()
