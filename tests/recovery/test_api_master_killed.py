"""The API's master process killed with SIGKILL: its supervisor (deploy/local/stack.sh)
clears the workers it left on the port and starts the API again; a part whose
supervisor died too is reported as orphaned by ``status`` and cleaned up by ``stop``."""

import os
import signal
import time

import pytest

from tests.conftest import eventually
from tests.recovery.conftest import (
    READY_WITHIN_SECONDS,
    STACK_SCRIPT,
    http_status,
    stack,
    stack_status,
)

pytestmark = pytest.mark.faults


def _api_line(status: str) -> str:
    return next(line for line in status.splitlines() if line.startswith("api: "))


async def test_a_killed_api_master_is_cleaned_up_and_restarted_by_its_supervisor() -> None:
    livez = f"http://127.0.0.1:{os.environ['RAPPORT_API__PORT']}/livez"
    await stack("start", "api")
    try:
        _, before = await stack_status()
        assert "restarted 0 times" in _api_line(before)

        await stack("kill", "api")
        killed_at = time.monotonic()

        async def restarted() -> bool:
            _, status = await stack_status()
            return "running" in _api_line(status) and "restarted 1 times" in _api_line(status)

        await eventually(restarted, within=READY_WITHIN_SECONDS)
        await eventually(lambda: _answers(livez), within=READY_WITHIN_SECONDS)
        print(f"api serving again {time.monotonic() - killed_at:.1f} s after its master was killed")
    finally:
        await stack("stop", "api")
    assert await http_status(livez) is None


async def test_an_api_left_without_supervisor_and_master_is_reported_and_cleaned_up() -> None:
    livez = f"http://127.0.0.1:{os.environ['RAPPORT_API__PORT']}/livez"
    await stack("start", "api")
    try:
        run = STACK_SCRIPT.parents[2] / ".local" / os.environ["RAPPORT_STACK"] / "run"
        for part in ("api.pid", "api.child"):  # the supervisor, then the master
            os.kill(int((run / part).read_text()), signal.SIGKILL)
        await eventually(lambda: _orphaned(), within=10)
        assert await http_status(livez) == 200, "the orphaned workers should still serve"
    finally:
        await stack("stop", "api")
    _, status = await stack_status()
    assert _api_line(status) == "api: stopped"
    assert await http_status(livez) is None


async def _answers(url: str) -> bool:
    return await http_status(url) == 200


async def _orphaned() -> bool:
    code, status = await stack_status()
    return code == 1 and _api_line(status).startswith("api: orphaned: pids ")
