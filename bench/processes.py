"""The processes the bench starts itself (services under test, the reference app, the
SMTP capture), each in its own session so it can be stopped with its children, and
their peak memory."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.config import ROOT, SERVICE_ENV, WORK

VENV = ROOT / ".venv" / "bin"


def descendants(pid: int) -> list[int]:
    """The process and every process under it (uvicorn's workers, for instance)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {pid}, True
    while grew:
        found = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return sorted(tree)


def tree_peak_rss_mb(pid: int) -> dict[str, float | None]:
    """Each process's peak and their sum, which bounds the tree's peak from above (the
    processes need not peak at once)."""
    peaks = {str(p): peak_rss_mb(p) for p in descendants(pid)}
    known = [v for v in peaks.values() if v is not None]
    return {"sum": round(sum(known), 1) if known else None, **peaks}


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (the resident set's high-water mark) from /proc, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


@dataclass
class Started:
    name: str
    process: asyncio.subprocess.Process
    log: Path
    peak_rss_mb: dict[str, float | None] | None = None  # per pid, and their sum

    @property
    def pid(self) -> int:
        return self.process.pid


def http_ready(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                return bool(response.status == 200)
        except OSError:
            return False

    return ready


def port_open(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    return ready


class Processes:
    """Starts processes and stops every one of them, whatever happens in between."""

    def __init__(self) -> None:
        self.started: dict[str, Started] = {}
        self.logs = WORK / "log"
        self.logs.mkdir(parents=True, exist_ok=True)
        # Names started in this run: a restart (the notifier's, in its drain phase)
        # appends to the log of its first start instead of overwriting it.
        self.logged: set[str] = set()

    async def start(
        self,
        name: str,
        argv: list[str],
        ready: Callable[[], bool],
        env: dict[str, str] | None = None,
    ) -> Started:
        log = self.logs / f"{name}.log"
        with log.open("ab" if name in self.logged else "wb") as out:
            self.logged.add(name)
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=ROOT,
                env={**os.environ, **SERVICE_ENV, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        started = Started(name, process, log)
        self.started[name] = started
        deadline = time.monotonic() + 90
        while not await asyncio.to_thread(ready):
            if process.returncode is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready in 90 s; see {log}")
            await asyncio.sleep(0.3)
        return started

    def uvicorn(self, app: str, port: int, workers: int) -> list[str]:
        """As deploy/local/stack.sh runs a service (``--workers`` included)."""
        return [
            str(VENV / "uvicorn"),
            app,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--workers",
            str(workers),
        ]

    def python(self, *args: str) -> list[str]:
        return [sys.executable, *args]

    async def stop(self, name: str) -> Started | None:
        """Stop it and its children (SIGTERM, then SIGKILL after 20 s); its peak memory is
        read just before."""
        started = self.started.pop(name, None)
        if started is None:
            return None
        process = started.process
        started.peak_rss_mb = tree_peak_rss_mb(process.pid)
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        return started

    async def stop_all(self) -> None:
        for name in list(self.started):
            await self.stop(name)
