"""The delivery log, redelivery, recovery, disabled endpoints, and an attempt cut short."""

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from rapport_common.clock import system_clock as utcnow
from rapport_common.models.webhooks import WebhookEndpoint, WebhookMessage
from rapport_common.settings import Settings
from services.notifier.queue import JobQueue
from services.notifier.webhooks.jobs import deliver_webhook, enqueue_due_deliveries
from tests.conftest import eventually
from tests.factories import invite, sign_in_all
from tests.webhooks.conftest import (
    Sessions,
    attempts,
    fan_out_outbox,
    messages,
    one_message,
    register,
    with_webhooks,
)
from tests.webhooks.receiver import Receiver, Reply


async def test_delivery_log_shows_one_row_per_attempt_newest_first(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    ctx["settings"] = with_webhooks(ctx["settings"], retry_schedule_seconds=[0, 0, 0])
    subscribed = await one_message(client, receiver, ctx)
    receiver.answer(Reply(500), Reply(500), Reply(204))
    for _ in range(4):  # the fourth finds it delivered and makes no attempt
        await deliver_webhook(ctx, subscribed.message_id)
    response = await client.get(f"{subscribed.path}/deliveries", headers=subscribed.owner.headers)
    log = response.json()["items"]
    assert [(d["attempt"], d["status_code"], d["succeeded"]) for d in log] == [
        (3, 204, True),
        (2, 500, False),
        (1, 500, False),
    ]
    assert {(d["message_id"], d["event_type"]) for d in log} == {
        (subscribed.message_id, "invitation.received")
    }
    assert len(receiver.received) == 3


async def test_redeliver_sends_a_delivered_message_again_with_the_same_id(
    client: httpx.AsyncClient,
    receiver: Receiver,
    ctx: dict[str, Any],
    job_sessions: Sessions,
    queue: JobQueue,
) -> None:
    subscribed = await one_message(client, receiver, ctx)
    await deliver_webhook(ctx, subscribed.message_id)
    response = await client.post(
        f"{subscribed.path}/messages/{subscribed.message_id}/redeliver",
        headers=subscribed.owner.headers,
    )
    assert response.status_code == 202 and response.json()["status"] == "pending"
    await queue.redis.flushdb()
    assert await enqueue_due_deliveries(ctx) == 1
    [job] = await queue.redis.queued_jobs()
    assert job.job_id == f"webhook:{subscribed.message_id}:1:1"
    assert await deliver_webhook(ctx, subscribed.message_id) == "attempt 2 delivered"
    assert [r.headers["webhook-id"] for r in receiver.received] == [subscribed.message_id] * 2


async def test_recover_requeues_the_messages_failed_since_then(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    ctx["settings"] = with_webhooks(ctx["settings"], retry_schedule_seconds=[])
    subscribed = await one_message(client, receiver, ctx)
    receiver.answer(Reply(500), Reply(204))
    assert await deliver_webhook(ctx, subscribed.message_id) == "attempt 1 failed; no retries left"
    since = (utcnow() - timedelta(minutes=5)).isoformat()
    response = await client.post(
        f"{subscribed.path}/recover", json={"since": since}, headers=subscribed.owner.headers
    )
    assert response.status_code == 202 and response.json() == {"requeued": 1}
    assert await deliver_webhook(ctx, subscribed.message_id) == "attempt 2 delivered"


async def test_recover_ignores_messages_failed_before_since(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    ctx["settings"] = with_webhooks(ctx["settings"], retry_schedule_seconds=[])
    subscribed = await one_message(client, receiver, ctx)
    receiver.answer(Reply(500))
    await deliver_webhook(ctx, subscribed.message_id)
    since = (utcnow() + timedelta(minutes=1)).isoformat()
    response = await client.post(
        f"{subscribed.path}/recover", json={"since": since}, headers=subscribed.owner.headers
    )
    assert response.json() == {"requeued": 0}
    assert [m.status for m in await messages(job_sessions)] == ["failed"]


async def test_enable_lets_a_disabled_endpoint_recover_its_messages(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    subscribed = await one_message(client, receiver, ctx)
    receiver.answer(Reply(410), Reply(204))
    await deliver_webhook(ctx, subscribed.message_id)
    since = {"since": (utcnow() - timedelta(minutes=5)).isoformat()}
    headers = subscribed.owner.headers
    refused = await client.post(f"{subscribed.path}/recover", json=since, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/webhook-endpoint-disabled")
    enabled = await client.post(f"{subscribed.path}/enable", headers=headers)
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None
    await client.post(f"{subscribed.path}/recover", json=since, headers=headers)
    assert await deliver_webhook(ctx, subscribed.message_id) == "attempt 2 delivered"


async def test_an_attempt_cut_short_leaves_no_log_row_and_is_made_again(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    subscribed = await one_message(client, receiver, ctx)
    receiver.answer(Reply(204, delay=5.0), Reply(204))
    worker = asyncio.create_task(deliver_webhook(ctx, subscribed.message_id))
    await eventually(lambda: asyncio.sleep(0, result=receiver.received), within=5)
    worker.cancel()  # the worker dies while the receiver is still answering
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    assert await attempts(job_sessions) == []
    assert await deliver_webhook(ctx, subscribed.message_id) == "attempt 1 delivered"
    assert [a.attempt for a in await attempts(job_sessions)] == [1]
    assert [r.headers["webhook-id"] for r in receiver.received] == [subscribed.message_id] * 2


async def test_events_for_a_disabled_endpoint_are_kept_as_failed_messages(
    client: httpx.AsyncClient,
    receiver: Receiver,
    ctx: dict[str, Any],
    job_sessions: Sessions,
    queue: JobQueue,
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await register(client, bob, receiver.url(), "invitation.received")
    async with job_sessions() as session, session.begin():
        await session.execute(update(WebhookEndpoint).values(disabled_at=utcnow()))
    assert (await invite(client, ada, bob)).status_code == 201
    await fan_out_outbox(ctx)
    assert [(m.status, m.attempts) for m in await messages(job_sessions)] == [("failed", 0)]
    assert await queue.redis.queued_jobs() == []


async def test_redeliver_during_an_attempt_is_409_instead_of_waiting(
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    receiver: Receiver,
    settings: Settings,
    queue: JobQueue,
) -> None:
    ctx = {"settings": settings, "sessionmaker": committed_db, "redis": queue.redis}
    subscribed = await one_message(committed_client, receiver, ctx)
    async with committed_db() as session, session.begin():
        # As a delivery job does while it waits for the receiver.
        await session.execute(select(WebhookMessage).with_for_update())
        response = await committed_client.post(
            f"{subscribed.path}/messages/{subscribed.message_id}/redeliver",
            headers=subscribed.owner.headers,
        )
    assert response.status_code == 409 and response.headers["retry-after"] == "15"
    assert response.json()["type"].endswith("/webhook-delivery-in-progress")
