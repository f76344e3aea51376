"""Redis Sentinel failover under a running notifier: a primary, a replica and three
Sentinels of the drill's own; the notifier (a real process) finds the primary through the
Sentinels while invitations are declined through the API, each decline owing its inviter
an email; the primary is killed (SIGKILL) mid-way. The Sentinels promote the replica,
the notifier continues on it by itself, and every notification is emailed exactly once
(the outbox reconciler re-relays whatever the replica never received)."""

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.notifications import Notification
from rapport_common.settings import Settings
from tests.conftest import eventually
from tests.drills.conftest import TimedSmtp
from tests.drills.servers import Servers, redis_answers, redis_info
from tests.factories import SignedIn, invitation_id, sign_in, sign_in_all
from tests.processes import free_port, running
from tests.recovery.conftest import http_status

pytestmark = pytest.mark.drills

MASTER = "rapport"
DECLINES = 40
# Declined before the kill: the rest go on while the primary is gone and after.
KILL_AFTER_EMAILS = 8


async def test_sentinel_promotes_the_replica_and_the_notifier_sends_everything_once(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    timed_smtp: tuple[TimedSmtp, int],
    tmp_path: Path,
) -> None:
    smtp, smtp_port = timed_smtp
    inviter = await sign_in(committed_client, "Ada")
    invitees = await sign_in_all(committed_client, *(f"Invitee {n}" for n in range(DECLINES)))
    invitations = [await invitation_id(committed_client, inviter, invitee) for invitee in invitees]

    servers = Servers("redis")
    try:
        primary_port, replica_port = free_port(), free_port()
        sentinel_ports = [free_port() for _ in range(3)]
        primary = servers.redis("primary", primary_port)
        await eventually(lambda: redis_answers(primary_port), within=20)
        servers.redis("replica", replica_port, "--replicaof", "127.0.0.1", str(primary_port))
        for number, port in enumerate(sentinel_ports):
            servers.sentinel(f"sentinel-{number}", port, MASTER, primary_port)
        await eventually(lambda: _replica_in_sync(replica_port), within=30)
        await eventually(lambda: _sentinels_see_everything(sentinel_ports), within=30)

        graph_port, health_port = free_port(), free_port()
        env = {
            "RAPPORT_POSTGRES__DATABASE": settings.postgres.database,
            "RAPPORT_REDIS__SENTINELS": ",".join(f"127.0.0.1:{port}" for port in sentinel_ports),
            "RAPPORT_REDIS__SENTINEL_MASTER": MASTER,
            "RAPPORT_SMTP__PORT": str(smtp_port),
            "RAPPORT_GRAPH__URL": f"http://127.0.0.1:{graph_port}",
            "RAPPORT_GRAPH__PORT": str(graph_port),
            "RAPPORT_NOTIFIER__PORT": str(health_port),
            "RAPPORT_WORKER__MAX_JOBS": "4",
            # Events whose job Redis lost are relayed again at the reconciler's next run.
            "RAPPORT_OUTBOX__RECONCILE_AFTER_SECONDS": "5",
        }
        graph = [sys.executable, "-m", "uvicorn", "services.graph.main:build", "--factory"]
        graph += ["--host", "127.0.0.1", "--port", str(graph_port)]
        worker = [sys.executable, "-m", "services.notifier"]
        log = tmp_path / "notifier.log"
        readyz = f"http://127.0.0.1:{health_port}/readyz"
        with running(graph, env, tmp_path / "graph.log"), running(worker, env, log) as notifier:
            await eventually(lambda: _is_ready(readyz), within=60)
            load = asyncio.create_task(_decline_all(committed_client, invitations, invitees))
            try:
                await eventually(lambda: _all_emailed(committed_db, KILL_AFTER_EMAILS), within=60)
                primary.kill()
                killed_at = time.monotonic()
                await eventually(lambda: _primary_is(sentinel_ports[0], replica_port), within=30)
                promoted_at = time.monotonic()
                await load
            finally:
                load.cancel()
            await eventually(lambda: _all_emailed(committed_db, DECLINES), within=150)
            assert notifier.poll() is None, "the notifier exited during the failover"
            assert await http_status(readyz) == 200
        notifier_log = log.read_text()
    finally:
        await servers.close()

    async with committed_db() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "invitation_declined")
        )
        rows = await session.execute(
            select(Notification.id).where(
                Notification.kind == "invitation_declined", Notification.emailed_at.is_not(None)
            )
        )
        emailed = {str(row) for row in rows.scalars()}
    declined = await _declined_ids(committed_db)
    ours = [(notification, at) for notification, at in smtp.received_at if notification in declined]
    received = [notification for notification, _ in ours]
    sent_before_kill = sum(1 for _, at in ours if at <= killed_at)
    resumed_after = min(at for _, at in ours if at > promoted_at) - killed_at
    promoted_after = promoted_at - killed_at
    duplicates = len(received) - len(set(received))
    requeued = _requeued(notifier_log)
    print(
        f"\nredis sentinel drill: primary killed after {sent_before_kill} of {DECLINES} emails; "
        f"replica promoted {promoted_after:.1f} s after the kill; first email on it "
        f"{resumed_after:.1f} s after the kill; {len(set(received))} emailed, "
        f"{duplicates} twice, {requeued} events re-relayed by the reconciler"
    )
    assert stored == DECLINES
    assert len(emailed) == DECLINES
    assert set(received) == emailed == declined, "an email is missing or went out for nothing"
    assert duplicates == 0, "an email went out twice"
    assert "the worker waits for it" in notifier_log, "the outage went unnoticed"
    assert sent_before_kill < DECLINES, "the primary died too late to test anything"


async def _decline_all(
    client: httpx.AsyncClient, invitations: list[str], invitees: list[SignedIn]
) -> None:
    """The load: one decline every 50 ms, through the API (into the outbox)."""
    for invitation, invitee in zip(invitations, invitees, strict=True):
        response = await client.post(
            f"/v1/invitations/{invitation}/decline", headers=invitee.headers
        )
        assert response.status_code == 200, response.text
        await asyncio.sleep(0.05)


async def _replica_in_sync(port: int) -> bool:
    info = await redis_info(port, "INFO", "replication")
    return isinstance(info, dict) and info.get("master_link_status") == "up"


async def _sentinels_see_everything(ports: list[int]) -> bool:
    for port in ports:
        replicas = await redis_info(port, "SENTINEL", "REPLICAS", MASTER)
        others = await redis_info(port, "SENTINEL", "SENTINELS", MASTER)
        if not (isinstance(replicas, list) and replicas and isinstance(others, list)):
            return False
        if len(others) < len(ports) - 1:
            return False
    return True


async def _primary_is(sentinel_port: int, port: int) -> bool:
    address = await redis_info(sentinel_port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
    return isinstance(address, list) and str(address[1]) == str(port)


async def _is_ready(url: str) -> bool:
    return await http_status(url) == 200


async def _declined_ids(sessionmaker: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Notification.id).where(Notification.kind == "invitation_declined")
        )
        return {str(row) for row in rows.scalars()}


async def _all_emailed(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> bool:
    async with sessionmaker() as session:
        emailed = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "invitation_declined", Notification.emailed_at.is_not(None))
        )
    return (emailed or 0) >= count


def _requeued(log: str) -> int:
    total = 0
    for line in log.splitlines():
        if "re-relaying stalled events" in line:
            try:
                total += int(json.loads(line).get("count", 0))
            except (ValueError, AttributeError):
                total += 1
    return total
