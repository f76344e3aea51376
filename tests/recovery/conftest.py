"""Fault drills on the real test stack: a store or a process is killed or stopped through
``deploy/local/stack.sh`` (the stack's own processes), and brought back before the test
ends, so the tests after them find the stack as it was.

They are marked ``faults``: ``-m "not faults"`` leaves them out, and they run one after
the other like every test of the session (never alongside another test that needs the
store they stop).
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.processes import CountingSmtp, smtp_server

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


@pytest.fixture
async def counting_smtp() -> AsyncIterator[tuple[CountingSmtp, int]]:
    handler = CountingSmtp(delay=0.1)
    async with smtp_server(handler) as port:
        yield handler, port
