"""What the run ran on, which versions, and how busy the rest of the machine was.

Other people's work may share this machine; ``CpuMeter`` tells how much CPU went to
processes outside the bench (its own process tree and the bench stack's stores) while
a measurement ran, so a noisy figure can be recognised as such.
"""

import os
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.config import NEO4J_PID_FILE, ROOT, STATE

TICKS = os.sysconf("SC_CLK_TCK")
PACKAGES = ("fastapi", "uvicorn", "sqlalchemy", "asyncpg", "neo4j", "arq", "aiosmtplib")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    cpuinfo = _read(Path("/proc/cpuinfo"))
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor(),
    )
    meminfo = _read(Path("/proc/meminfo")).split()
    total_kb = int(meminfo[meminfo.index("MemTotal:") + 1]) if "MemTotal:" in meminfo else 0
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(total_kb / 1024**2, 1),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
    }


def _git(*args: str) -> str:
    result = subprocess.run(  # noqa: S603 (fixed argv, read-only git)
        ["git", *args],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


def versions() -> dict[str, Any]:
    return {
        "rapport_commit": _git("rev-parse", "HEAD"),
        "working_tree_changes": len(_git("status", "--porcelain").splitlines()),
        **{name: version(name) for name in PACKAGES},
    }


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, CPU ticks used) of a process."""
    text = _read(Path(f"/proc/{pid}/stat"))
    if not text:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _pid_file(path: Path) -> int | None:
    text = _read(path).split()
    return int(text[0]) if text and text[0].isdigit() else None


def _roots() -> set[int]:
    """The bench's own process and the bench stack's stores."""
    roots = {os.getpid()}
    postgres_dir = _read(STATE / "run" / "postgres.datadir").strip()
    for path in (NEO4J_PID_FILE, STATE / "run" / "redis.pid", Path(postgres_dir, "postmaster.pid")):
        pid = _pid_file(path)
        if pid is not None:
            roots.add(pid)
    return roots


def _ours() -> dict[int, int]:
    """CPU ticks used so far by each process of the trees under the roots."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            table[int(entry.name)] = stat
    roots = _roots()
    ours = {}
    for pid, (_, ticks) in table.items():
        current, seen = pid, 0
        while current in table and seen < 64:
            if current in roots:
                ours[pid] = ticks
                break
            current, seen = table[current][0], seen + 1
    return ours


def _busy() -> int:
    fields = [int(v) for v in _read(Path("/proc/stat")).splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) - idle


class CpuMeter:
    """CPU seconds used by the bench and by everything else between start() and stop().

    Counted per process, so a process that ends in between (Neo4j stopped for the
    offline import, say) takes nothing away; what it used before it ended is lost
    from /proc, so "others" is an upper bound."""

    def start(self) -> None:
        self.wall, self.busy, self.ours = time.monotonic(), _busy(), _ours()

    def stop(self) -> dict[str, float]:
        seconds = time.monotonic() - self.wall
        busy = (_busy() - self.busy) / TICKS
        now = _ours()
        ours = sum(max(0, ticks - self.ours.get(pid, 0)) for pid, ticks in now.items()) / TICKS
        return {
            "wall_seconds": round(seconds, 1),
            "cpu_seconds_bench": round(ours, 1),
            "cpu_seconds_others": round(max(0.0, busy - ours), 1),
            "load_average_1m": float(_read(Path("/proc/loadavg")).split()[0] or 0),
        }
