"""PostgreSQL failover under writes: a primary and a synchronous streaming standby of the
drill's own (``pg_basebackup -R``), the API given both as ``RAPPORT_POSTGRES__HOSTS`` with
``target_session_attrs=read-write``, members registering all along. The primary is
stopped at once (as a crash would), the standby promoted (``pg_ctl promote``, what an
operator or a failover manager does): meanwhile the API answers 503 problems with
Retry-After, never a 500, then goes on against the promoted standby by itself, and every
registration it acknowledged is there."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config

from rapport_common.settings import PostgresSettings, Settings
from services.api.main import create_app
from tests.conftest import eventually
from tests.drills.servers import AS_POSTGRES, PGBIN, Servers, run
from tests.factories import PASSWORD
from tests.processes import free_port

pytestmark = pytest.mark.drills

DATABASE = "rapport_drill"
WRITERS = 4
# Registrations acknowledged before the primary stops, and after the promoted standby
# took the first; 503s answered before the standby is promoted.
BEFORE_STOP = 10
AFTER_RECOVERY = 10
UNAVAILABLE_BEFORE_PROMOTION = 8


@dataclass
class Answers:
    acknowledged: list[uuid.UUID] = field(default_factory=list)
    unavailable: int = 0
    retry_after_missing: int = 0
    other: list[tuple[int, str]] = field(default_factory=list)
    stopped_at: float = 0.0
    first_after_promotion: float | None = None


async def test_primary_stopped_standby_promoted_api_recovers_and_loses_no_write(
    settings: Settings,
) -> None:
    servers = Servers("postgres")
    try:
        primary_port, standby_port = free_port(), free_port()
        primary = servers.folder("primary", for_postgres=True)
        standby = servers.folder("standby", for_postgres=True)
        await run(
            *AS_POSTGRES, str(PGBIN / "initdb"), "-D", str(primary), "-U", "postgres",
            "-E", "UTF8", "--locale=C.UTF-8", "--auth=trust",
        )  # fmt: skip
        await servers.postgres(primary, primary_port, "wal_level=replica")
        await _psql(primary_port, f"CREATE ROLE rapport LOGIN PASSWORD '{PASSWORD}'")
        await _psql(primary_port, f"CREATE DATABASE {DATABASE} OWNER rapport")
        primary_only = PostgresSettings(
            port=primary_port, user="rapport", password=PASSWORD, database=DATABASE
        )
        await asyncio.to_thread(_migrate, primary_only.url())
        await run(
            *AS_POSTGRES, str(PGBIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port),
            "-U", "postgres", "-D", str(standby), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        await servers.postgres(standby, standby_port, "cluster_name=standby")
        # Synchronous replication: a commit is acknowledged once the standby has it, so
        # losing the primary loses no acknowledged write (asynchronous would lose the last
        # moment's). Set once the standby streams: until then every commit would wait.
        await _psql(primary_port, "ALTER SYSTEM SET synchronous_standby_names = 'standby'")
        await _psql(primary_port, "SELECT pg_reload_conf()")
        await eventually(lambda: _synchronous_standby(primary_port), within=30)

        both = primary_only.model_copy(
            update={"hosts": [f"127.0.0.1:{primary_port}", f"127.0.0.1:{standby_port}"]}
        )
        assert both.target_session_attrs == "read-write"
        api = create_app(settings.model_copy(update={"postgres": both}))
        answers = Answers()
        stopping = asyncio.Event()
        async with (
            api.router.lifespan_context(api),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=api), base_url="http://api", timeout=30
            ) as client,
        ):
            writers = [
                asyncio.create_task(_register_until(client, stopping, answers))
                for _ in range(WRITERS)
            ]
            try:
                await eventually(lambda: _acknowledged(answers, BEFORE_STOP), within=60)
                acknowledged_before = len(answers.acknowledged)
                stop = [*AS_POSTGRES, str(PGBIN / "pg_ctl"), "-D", str(primary)]
                await run(*stop, "-m", "immediate", "-w", "stop")
                stopped_at = time.monotonic()
                answers.stopped_at = stopped_at
                # A failover manager decides after a while; here: once requests met it.
                await eventually(lambda: _unavailable(answers, UNAVAILABLE_BEFORE_PROMOTION))
                promote = [*AS_POSTGRES, str(PGBIN / "pg_ctl"), "-D", str(standby)]
                await run(*promote, "-w", "promote")
                promoted_at = time.monotonic()
                first = await eventually(lambda: _first_after(answers, stopped_at), within=60)
                after = len(answers.acknowledged) + AFTER_RECOVERY
                await eventually(lambda: _acknowledged(answers, after), within=60)
            finally:
                stopping.set()
                await asyncio.gather(*writers, return_exceptions=True)
            for writer in writers:
                writer.result()  # a writer's own failure fails the drill

        stored = await _stored(standby_port, answers.acknowledged)
    finally:
        await servers.close()

    lost = len(set(answers.acknowledged) - stored)
    outage = first - stopped_at
    print(
        f"\npostgres failover drill: {len(answers.acknowledged)} registrations acknowledged "
        f"({acknowledged_before} before the stop), {answers.unavailable} answered 503, "
        f"{lost} lost; standby promoted {promoted_at - stopped_at:.1f} s after the stop, "
        f"writes acknowledged again {outage:.1f} s after the stop "
        f"({first - promoted_at:.2f} s after the promotion)"
    )
    assert answers.other == [], "answers other than 201 and 503 (a 500?)"
    assert answers.unavailable > 0, "no request met the switch"
    assert answers.retry_after_missing == 0, "a 503 without Retry-After"
    assert len(answers.acknowledged) > acknowledged_before, "no write after the promotion"
    assert lost == 0


async def _register_until(
    client: httpx.AsyncClient, stopping: asyncio.Event, answers: Answers
) -> None:
    """One writer: registrations one after the other; 201s are acknowledged writes."""
    while not stopping.is_set():
        started = time.monotonic()
        response = await client.post(
            "/v1/auth/register",
            json={
                "email": f"{uuid.uuid4().hex[:16]}@example.com",
                "password": PASSWORD,
                "name": "Failover Drill",
            },
        )
        if response.status_code == 201:
            answers.acknowledged.append(uuid.UUID(response.json()["member_id"]))
            stopped = answers.stopped_at
            if stopped and started > stopped and answers.first_after_promotion is None:
                answers.first_after_promotion = time.monotonic()
        elif response.status_code == 503:
            answers.unavailable += 1
            problem = response.json()
            if not response.headers.get("Retry-After") or "type" not in problem:
                answers.retry_after_missing += 1
            await asyncio.sleep(0.05)
        else:
            answers.other.append((response.status_code, response.text[:300]))


async def _acknowledged(answers: Answers, count: int) -> bool:
    return len(answers.acknowledged) >= count


async def _unavailable(answers: Answers, count: int) -> bool:
    return answers.unavailable >= count


async def _first_after(answers: Answers, since: float) -> float | None:
    first = answers.first_after_promotion
    return first if first is not None and first > since else None


def _migrate(url: str) -> None:
    config = Config("alembic.ini")
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


async def _psql(port: int, sql: str) -> None:
    psql = [*AS_POSTGRES, str(PGBIN / "psql"), "-h", "127.0.0.1", "-p", str(port)]
    await run(*psql, "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql)


async def _synchronous_standby(port: int) -> bool:
    connection = await asyncpg.connect(
        host="127.0.0.1", port=port, user="postgres", database="postgres"
    )
    try:
        state = await connection.fetchval(
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'"
        )
    finally:
        await connection.close()
    return bool(state == "sync")


async def _stored(port: int, member_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    connection = await asyncpg.connect(
        host="127.0.0.1", port=port, user="rapport", password=PASSWORD, database=DATABASE
    )
    try:
        rows = await connection.fetch("SELECT id FROM members WHERE id = ANY($1)", member_ids)
    finally:
        await connection.close()
    return {row["id"] for row in rows}
