"""Two notifier workers and two graph services on the same stores behave as one: every
email goes out once, every webhook message is delivered once, every connection is in
Neo4j once with both ratings.

Real processes: each worker talks to its own graph service, both graph services to the
one Neo4j, and both workers to the one PostgreSQL and Redis, while the events arrive.
"""

import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.notifications import Notification
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.graph.database import Graph
from tests.conftest import eventually
from tests.factories import invitation_id, sign_in, sign_in_all
from tests.processes import CountingSmtp, free_port, running, smtp_server
from tests.webhooks.conftest import register
from tests.webhooks.receiver import Receiver

DECLINES = 12
ACCEPTS = 8
GRAPH_SERVICE = [sys.executable, "-m", "uvicorn", "services.graph.main:build", "--factory"]


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[CountingSmtp, int]]:
    handler = CountingSmtp()
    async with smtp_server(handler) as port:
        yield handler, port


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


async def test_two_workers_and_two_graph_services_do_each_thing_once(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    graph: Graph,
    smtp: tuple[CountingSmtp, int],
    receiver: Receiver,
) -> None:
    capture, smtp_port = smtp
    base = {
        **os.environ,
        "RAPPORT_POSTGRES__DATABASE": settings.postgres.database,
        "RAPPORT_SMTP__PORT": str(smtp_port),
        "RAPPORT_LOG_LEVEL": "WARNING",
    }
    graph_ports = [free_port(), free_port()]
    ada = await sign_in(committed_client, "Ada")
    await register(committed_client, ada, receiver.url(), "invitation.declined")
    decliners = await sign_in_all(committed_client, *(f"Decliner {n}" for n in range(DECLINES)))
    friends = await sign_in_all(committed_client, *(f"Friend {n}" for n in range(ACCEPTS)))

    with ExitStack() as processes:
        for port in graph_ports:
            processes.enter_context(
                running([*GRAPH_SERVICE, "--host", "127.0.0.1", "--port", str(port)], base)
            )
        for port in graph_ports:
            worker_env = {
                **base,
                "RAPPORT_GRAPH__URL": f"http://127.0.0.1:{port}",
                "RAPPORT_NOTIFIER__PORT": str(free_port()),
            }
            processes.enter_context(
                running([sys.executable, "-m", "services.notifier"], worker_env)
            )

        # The events arrive while both workers run, so both take jobs. Every invitation
        # is sent before any is declined, so that Ada is not throttled halfway.
        to_decline = [await invitation_id(committed_client, ada, d) for d in decliners]
        to_accept = [await invitation_id(committed_client, ada, f, my_rating=9) for f in friends]
        for invitation, decliner in zip(to_decline, decliners, strict=True):
            answer = await committed_client.post(
                f"/v1/invitations/{invitation}/decline", headers=decliner.headers
            )
            assert answer.status_code == 200, answer.text
        for invitation, friend in zip(to_accept, friends, strict=True):
            accepted = await committed_client.post(
                f"/v1/invitations/{invitation}/accept", json={"rating": 6}, headers=friend.headers
            )
            assert accepted.status_code == 200, accepted.text

        await eventually(lambda: _all_events_completed(committed_db), within=120)
        await eventually(lambda: _webhooks_received(receiver, DECLINES), within=60)

    async with committed_db() as session:
        notifications = await session.execute(
            select(Notification.id).where(Notification.emailed_at.is_not(None))
        )
        emailed = {str(notification_id) for notification_id in notifications.scalars()}
    # invitation_received for everyone invited, then a decline note or an acceptance.
    assert len(emailed) == 2 * (DECLINES + ACCEPTS)
    copies = Counter(capture.received)
    assert set(copies) == emailed
    assert max(copies.values()) == 1, "an email went out twice"
    assert max(Counter(capture.message_ids).values()) == 1, "an account email went out twice"

    deliveries = Counter(request.headers["webhook-id"] for request in receiver.received)
    assert len(deliveries) == DECLINES
    assert max(deliveries.values()) == 1, "a webhook message was delivered twice"

    records = await graph.read(
        "MATCH (a:Member {member_id: $ada})-[r:KNOWS]-(friend) RETURN count(r) AS links",
        ada=str(ada.member_id),
    )
    assert records[0]["links"] == ACCEPTS


async def _all_events_completed(db: async_sessionmaker[AsyncSession]) -> bool:
    async with db() as session:
        pending = await session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.completed_at.is_(None))
        )
    return pending == 0


async def _webhooks_received(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count
