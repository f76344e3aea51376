"""Throwaway store servers for the failover drills, from Debian's packages, on loopback:
each on spare ports and in a temporary folder of its own, never the test stack's. A
``Servers`` owns everything it starts: ``close`` kills every process and removes every
folder, whatever state the drill left them in."""

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import IO

from redis.asyncio import Redis
from redis.exceptions import RedisError

PGBIN = Path("/usr/lib/postgresql/15/bin")
# PostgreSQL refuses to run as root; the stack script runs it as the postgres user too.
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class Servers:
    def __init__(self, name: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=f"rapport-drill-{name}-"))
        self.root.chmod(0o755)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.postgres_clusters: list[Path] = []
        self._logs: list[IO[bytes]] = []

    def folder(self, name: str, *, for_postgres: bool = False) -> Path:
        path = self.root / name
        path.mkdir(mode=0o700)
        if for_postgres and AS_POSTGRES:
            shutil.chown(path, "postgres", "postgres")
        return path

    def start(
        self, name: str, args: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A process in its own session (so a kill reaches whatever it forks), its output
        in ``<root>/<name>.log``."""
        log = (self.root / f"{name}.log").open("ab")
        self._logs.append(log)
        process = subprocess.Popen(  # noqa: S603 (the packages' own programs)
            args,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ---- Redis and Sentinel ----

    def redis(self, name: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
        """As the stack runs its Redis: AOF every second, never evicting."""
        data = self.folder(name)
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data)]
        command += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
        command += ["--maxmemory-policy", "noeviction", *extra]
        return self.start(name, command)

    def sentinel(self, name: str, port: int, master: str, primary_port: int) -> None:
        config = self.root / f"{name}.conf"
        config.write_text(
            f"bind 127.0.0.1\nport {port}\ndir {self.root}\n"
            f"sentinel monitor {master} 127.0.0.1 {primary_port} 2\n"
            # Down after 1 s without an answer; production keeps the default 30 s
            # unless its network is as quiet as loopback.
            f"sentinel down-after-milliseconds {master} 1000\n"
            f"sentinel failover-timeout {master} 10000\n"
            f"sentinel parallel-syncs {master} 1\n"
        )
        self.start(name, ["redis-server", str(config), "--sentinel"])

    # ---- PostgreSQL ----

    async def postgres(self, data: Path, port: int, *settings: str) -> None:
        # Its log and socket in a folder the postgres user may write to.
        run_folder = self.root / f"{data.name}-run"
        if not run_folder.exists():
            run_folder = self.folder(run_folder.name, for_postgres=True)
        options = f"-c listen_addresses=127.0.0.1 -c port={port}"
        options += f" -c unix_socket_directories={run_folder}"
        for setting in settings:
            options += f" -c {setting}"
        self.postgres_clusters.append(data)
        log = str(run_folder / "postgres.log")
        pg_ctl = [*AS_POSTGRES, str(PGBIN / "pg_ctl"), "-D", str(data), "-l", log]
        await run(*pg_ctl, "-w", "-t", "60", "-o", options, "start")

    async def close(self) -> None:
        for data in self.postgres_clusters:
            if (data / "postmaster.pid").exists():
                await run(
                    *AS_POSTGRES, str(PGBIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                    "stop", check=False,
                )  # fmt: skip
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            await asyncio.to_thread(process.wait, 30)
        for log in self._logs:
            log.close()
        shutil.rmtree(self.root, ignore_errors=True)


async def run(*args: str, check: bool = True, within: float = 120) -> str:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{' '.join(args)} did not end within {within} s") from None
    text = output.decode(errors="replace")
    if check and process.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({process.returncode}): {text}")
    return text


async def redis_answers(port: int) -> bool:
    client = Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except (OSError, RedisError):
        return False
    finally:
        await client.aclose()


async def redis_info(port: int, command: str, *args: str) -> object:
    """The answer of a Redis or Sentinel on ``port``; None while it does not answer."""
    client = Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, decode_responses=True)
    try:
        return await client.execute_command(command, *args)  # type: ignore[no-untyped-call]
    except (OSError, RedisError):
        return None
    finally:
        await client.aclose()
