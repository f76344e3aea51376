"""Delivering messages: signatures, retries, Retry-After, 410, disabling, the log."""

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from rapport_common.clock import system_clock as utcnow
from rapport_common.models.notifications import Notification
from rapport_common.models.webhooks import WebhookEndpoint
from services.notifier.queue import JobQueue
from services.notifier.webhooks.jobs import deliver_webhook
from tests.factories import connect, sign_in_all
from tests.webhooks.conftest import (
    Sessions,
    attempts,
    endpoint_row,
    fan_out_outbox,
    messages,
    one_message,
    register,
    with_webhooks,
)
from tests.webhooks.receiver import Receiver, Reply


async def test_fan_out_twice_creates_one_message_and_queues_one_job(
    client: httpx.AsyncClient,
    receiver: Receiver,
    ctx: dict[str, Any],
    job_sessions: Sessions,
    queue: JobQueue,
) -> None:
    message_id = (await one_message(client, receiver, ctx)).message_id
    await fan_out_outbox(ctx)
    assert [m.id for m in await messages(job_sessions)] == [message_id]
    queued = [job.job_id for job in await queue.redis.queued_jobs()]
    assert queued == [f"webhook:{message_id}:0:0"]


async def test_connection_created_carries_only_each_members_own_rating(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    for member in (ada, bob):
        await register(client, member, receiver.url(f"/{member.member_id}"), "connection.created")
    await connect(client, ada, bob, a_rates=9, b_rates=3)
    await fan_out_outbox(ctx)
    bodies = {str(m.endpoint_id): json.loads(m.body) for m in await messages(job_sessions)}
    datas = sorted((body["data"] for body in bodies.values()), key=lambda d: d["my_rating"])
    assert [(d["member_id"], d["my_rating"]) for d in datas] == [
        (str(ada.member_id), 3),
        (str(bob.member_id), 9),
    ]
    assert all(set(d) == {"member_id", "how_we_met", "connected_at", "my_rating"} for d in datas)


async def test_delivery_is_signed_per_standard_webhooks(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    subscribed = await one_message(client, receiver, ctx)
    endpoint, message_id = subscribed.endpoint, subscribed.message_id
    assert await deliver_webhook(ctx, message_id) == "attempt 1 delivered"
    [request] = receiver.received
    payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == message_id
    assert payload["type"] == "invitation.received"
    assert set(payload) == {"type", "timestamp", "data"}


async def test_a_failed_attempt_is_retried_after_the_first_delay_of_the_schedule(
    client: httpx.AsyncClient,
    receiver: Receiver,
    ctx: dict[str, Any],
    job_sessions: Sessions,
    queue: JobQueue,
) -> None:
    message_id = (await one_message(client, receiver, ctx)).message_id
    await queue.redis.flushdb()
    receiver.answer(Reply(500))
    await deliver_webhook(ctx, message_id)
    [after] = await messages(job_sessions)
    [attempt] = await attempts(job_sessions)
    delay = ctx["settings"].webhooks.retry_schedule_seconds[0]
    assert after.status == "pending" and after.next_attempt_at is not None
    waited = (after.next_attempt_at - attempt.attempted_at).total_seconds()
    assert delay * 0.9 <= waited <= delay * 1.1
    [job] = await queue.redis.queued_jobs()
    assert job.job_id == f"webhook:{message_id}:0:1"
    assert job.score == pytest.approx(after.next_attempt_at.timestamp() * 1000, abs=2)


@pytest.mark.parametrize("header", ["120", "HTTP-date"])
async def test_retry_after_longer_than_the_schedule_is_honoured(
    client: httpx.AsyncClient,
    receiver: Receiver,
    ctx: dict[str, Any],
    job_sessions: Sessions,
    header: str,
) -> None:
    message_id = (await one_message(client, receiver, ctx)).message_id
    value = header
    if header == "HTTP-date":
        value = (utcnow() + timedelta(seconds=121)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    receiver.answer(Reply(503, {"retry-after": value}))
    await deliver_webhook(ctx, message_id)
    [after] = await messages(job_sessions)
    [attempt] = await attempts(job_sessions)
    assert after.next_attempt_at is not None
    waited = (after.next_attempt_at - attempt.attempted_at).total_seconds()
    assert 118 <= waited <= 122 and attempt.status_code == 503


async def test_gone_disables_the_endpoint_and_notifies_its_owner(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    subscribed = await one_message(client, receiver, ctx)
    endpoint, message_id = subscribed.endpoint, subscribed.message_id
    receiver.answer(Reply(410))
    await deliver_webhook(ctx, message_id)
    row = await endpoint_row(job_sessions, endpoint["endpoint_id"])
    assert row.disabled_at is not None and "410" in (row.disabled_reason or "")
    assert [m.status for m in await messages(job_sessions)] == ["failed"]
    async with job_sessions() as session:
        notices = (await session.execute(select(Notification))).scalars().all()
    owners = [(n.member_id, n.kind) for n in notices if n.kind == "webhook_endpoint_disabled"]
    assert owners == [(row.member_id, "webhook_endpoint_disabled")]


async def test_an_endpoint_failing_for_disable_after_days_is_disabled(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    subscribed = await one_message(client, receiver, ctx)
    endpoint, message_id = subscribed.endpoint, subscribed.message_id
    days = ctx["settings"].webhooks.disable_after_days
    async with job_sessions() as session, session.begin():
        failing_since = utcnow() - timedelta(days=days, minutes=1)
        await session.execute(update(WebhookEndpoint).values(failing_since=failing_since))
    receiver.answer(Reply(500))
    await deliver_webhook(ctx, message_id)
    row = await endpoint_row(job_sessions, endpoint["endpoint_id"])
    assert row.disabled_at is not None and "failed since" in (row.disabled_reason or "")


async def test_a_success_clears_the_failing_streak(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    subscribed = await one_message(client, receiver, ctx)
    endpoint, message_id = subscribed.endpoint, subscribed.message_id
    async with job_sessions() as session, session.begin():
        await session.execute(update(WebhookEndpoint).values(failing_since=utcnow()))
    await deliver_webhook(ctx, message_id)
    row = await endpoint_row(job_sessions, endpoint["endpoint_id"])
    assert row.failing_since is None and row.disabled_at is None


async def test_a_message_fails_once_the_schedule_is_exhausted(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    ctx["settings"] = with_webhooks(ctx["settings"], retry_schedule_seconds=[0, 0])
    message_id = (await one_message(client, receiver, ctx)).message_id
    receiver.answer(Reply(500))
    results = [await deliver_webhook(ctx, message_id) for _ in range(4)]
    assert results[2:] == ["attempt 3 failed; no retries left", "already failed"]
    assert [m.status for m in await messages(job_sessions)] == ["failed"]


async def test_a_redirect_is_a_failure_and_is_not_followed(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    message_id = (await one_message(client, receiver, ctx)).message_id
    receiver.answer(Reply(302, {"location": "http://169.254.169.254/latest/meta-data/"}))
    await deliver_webhook(ctx, message_id)
    [attempt] = await attempts(job_sessions)
    assert attempt.status_code == 302
    assert attempt.error == "redirect to http://169.254.169.254/latest/meta-data/ not followed"
    assert len(receiver.received) == 1
    assert [m.status for m in await messages(job_sessions)] == ["pending"]


async def test_a_slow_receiver_fails_after_the_timeout(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    ctx["settings"] = with_webhooks(ctx["settings"], timeout_seconds=0.2)
    message_id = (await one_message(client, receiver, ctx)).message_id
    receiver.answer(Reply(204, delay=1.0))
    await deliver_webhook(ctx, message_id)
    [attempt] = await attempts(job_sessions)
    assert attempt.status_code is None and attempt.error == "no answer within 0.2 s"
    assert 150 <= attempt.duration_ms < 1000


async def test_rotation_signs_with_both_secrets_during_the_grace_period(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any], job_sessions: Sessions
) -> None:
    subscribed = await one_message(client, receiver, ctx)
    endpoint, message_id = subscribed.endpoint, subscribed.message_id
    rotated = await client.post(
        f"{subscribed.path}/rotate-secret", headers=subscribed.owner.headers
    )
    new_secret = rotated.json()["secret"]
    await deliver_webhook(ctx, message_id)
    [request] = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], new_secret):
        Webhook(secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)
