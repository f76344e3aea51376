"""The SSRF guard: at registration (a 422 naming the rule) and again at send time."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from rapport_common.models.webhooks import WebhookEndpoint
from rapport_common.settings import Settings
from services.notifier.webhooks.jobs import deliver_webhook
from tests.factories import invite, sign_in, sign_in_all
from tests.webhooks.conftest import (
    Sessions,
    attempts,
    fan_out_outbox,
    messages,
    one_message,
    register,
    with_webhooks,
)
from tests.webhooks.receiver import Receiver

REFUSED = [
    ("http://127.0.0.1:8080/hooks", "loopback", False),
    ("http://localhost/hooks", "loopback", False),
    ("http://2130706433/", "loopback", False),
    ("http://169.254.169.254/latest/meta-data/", "link-local", True),
    ("http://[::ffff:127.0.0.1]/", "loopback", True),
    ("http://[::ffff:169.254.169.254]/", "link-local", True),
    ("http://[64:ff9b::a9fe:a9fe]/", "link-local", True),
    ("http://[::ffff:8.8.8.8]/", "ipv4-translated", True),
    ("http://[::ffff:0:8.8.8.8]/", "ipv4-translated", True),
    ("http://[::ffff:0:127.0.0.1]/", "loopback", True),
    ("http://[::ffff:0:a9fe:a9fe]/", "link-local", True),
    ("http://[::ffff:0:a00:7]/", "private", True),
    ("http://[64:ff9b:1::808:808]/", "reserved", True),
    ("http://[64:ff9b:1:a9fe:a9:fe00::]/", "reserved", True),
    ("http://10.0.0.7/", "private", True),
    ("http://192.168.1.1/", "private", True),
    ("http://100.64.0.1/", "cgnat", True),
    ("http://[fd12:3456::1]/", "unique-local", True),
    ("http://[fe80::1]/", "link-local", True),
    ("http://0.0.0.0/", "unspecified", True),
    ("http://224.0.0.251/", "multicast", True),
    ("http://240.0.0.1/", "reserved", True),
    ("http://192.0.2.10/", "non-public", True),
    ("ftp://example.com/hooks", "scheme", True),
    ("http://user:secret@example.com/hooks", "userinfo", True),
    ("http://no-such-host.invalid/hooks", "unresolvable", True),
]


@pytest.mark.parametrize(("url", "rule", "allow_loopback"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_register_refuses_a_url_breaking_an_ssrf_rule(
    client: httpx.AsyncClient,
    api_app: FastAPI,
    settings: Settings,
    url: str,
    rule: str,
    allow_loopback: bool,
) -> None:
    api_app.state.settings = with_webhooks(settings, allow_loopback=allow_loopback)
    ada = await sign_in(client, "Ada")
    response = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": url, "event_types": ["connection.created"]},
        headers=ada.headers,
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/unsafe-webhook-url")
    assert problem["rule"] == rule and f"(rule: {rule})" in problem["detail"]


async def test_register_accepts_loopback_when_allowed_for_development(
    client: httpx.AsyncClient, api_app: FastAPI, settings: Settings
) -> None:
    api_app.state.settings = with_webhooks(settings, allow_loopback=True)
    ada = await sign_in(client, "Ada")
    response = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["connection.created"]},
        headers=ada.headers,
    )
    assert response.status_code == 201


async def test_send_time_check_refuses_an_address_no_longer_allowed(
    client: httpx.AsyncClient,
    receiver: Receiver,
    ctx: dict[str, Any],
    job_sessions: Sessions,
    settings: Settings,
) -> None:
    message_id = (await one_message(client, receiver, ctx)).message_id
    ctx["settings"] = with_webhooks(settings, allow_loopback=False)
    result = await deliver_webhook(ctx, message_id)
    assert result.startswith("attempt 1 failed; next in")
    [attempt] = await attempts(job_sessions)
    assert attempt.status_code is None
    assert (attempt.error or "").startswith("refused (loopback): 127.0.0.1 is a loopback")
    assert receiver.received == []


async def test_delivery_goes_to_the_checked_address_with_the_original_host_header(
    client: httpx.AsyncClient,
    receiver: Receiver,
    ctx: dict[str, Any],
    job_sessions: Sessions,
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    url = f"http://localhost:{receiver.port}/hooks"
    await register(client, bob, url, "invitation.received")
    assert (await invite(client, ada, bob)).status_code == 201
    await fan_out_outbox(ctx)
    [message] = await messages(job_sessions)
    assert await deliver_webhook(ctx, message.id) == "attempt 1 delivered"
    [request] = receiver.received
    assert request.headers["host"] == f"localhost:{receiver.port}"


@pytest.mark.parametrize(
    ("host", "rule"),
    [
        ("[::ffff:0:127.0.0.1]", "loopback"),
        ("[::ffff:8.8.8.8]", "ipv4-translated"),
        ("[64:ff9b:1::808:808]", "reserved"),
    ],
)
async def test_send_time_check_refuses_ipv4_translated_and_local_nat64_addresses(
    client: httpx.AsyncClient,
    receiver: Receiver,
    ctx: dict[str, Any],
    job_sessions: Sessions,
    host: str,
    rule: str,
) -> None:
    subscribed = await one_message(client, receiver, ctx)
    async with job_sessions() as session, session.begin():
        # Stored before these ranges were refused at registration.
        await session.execute(
            update(WebhookEndpoint).values(url=f"http://{host}:{receiver.port}/hooks")
        )
    assert (await deliver_webhook(ctx, subscribed.message_id)).startswith("attempt 1 failed")
    [attempt] = await attempts(job_sessions)
    assert (attempt.error or "").startswith(f"refused ({rule}): {host.strip('[]')} ")
    assert receiver.received == []
