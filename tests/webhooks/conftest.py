"""Webhook fixtures: a loopback receiver, and the worker's ``ctx`` inside the test's
rolled-back transaction, so jobs are called directly and see what the API wrote."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from rapport_common.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.notifier.queue import JobQueue
from services.notifier.webhooks.consumer import fan_out
from tests.factories import SignedIn, invite, sign_in_all
from tests.webhooks.receiver import Receiver

Sessions = async_sessionmaker[AsyncSession]


def with_webhooks(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"webhooks": settings.webhooks.model_copy(update=changes)})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def job_sessions(db_connection: AsyncConnection) -> Sessions:
    """Sessions for the jobs, each a savepoint in the test's transaction."""
    return async_sessionmaker(
        bind=db_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def ctx(settings: Settings, job_sessions: Sessions, queue: JobQueue) -> dict[str, Any]:
    """What the arq worker hands each job."""
    return {"settings": settings, "sessionmaker": job_sessions, "redis": queue.redis}


async def register(
    client: httpx.AsyncClient, member: SignedIn, url: str, *event_types: str
) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": url, "event_types": list(event_types) or ["invitation.received"]},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def fan_out_outbox(ctx: dict[str, Any]) -> None:
    """Hand every outbox event of the test's transaction to the webhook consumer, as the
    worker's ``handle_event`` would."""
    async with ctx["sessionmaker"]() as session:
        events = await session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence))
        envelopes = [event.envelope() for event in events.scalars()]
    for envelope in envelopes:
        async with ctx["sessionmaker"]() as session:
            await fan_out(ctx, envelope, session)
            await session.commit()


# Reads go through their own savepoints: a read through ``db_session`` would open one that
# the API's next rollback (a 4xx) rolls back, taking the jobs' writes with it.
async def messages(sessions: Sessions) -> list[WebhookMessage]:
    async with sessions() as session, session.begin():
        query = select(WebhookMessage).order_by(WebhookMessage.created_at)
        return list((await session.execute(query)).scalars().all())


async def attempts(sessions: Sessions) -> list[WebhookAttempt]:
    async with sessions() as session, session.begin():
        query = select(WebhookAttempt).order_by(WebhookAttempt.attempt)
        return list((await session.execute(query)).scalars().all())


async def endpoint_row(sessions: Sessions, endpoint_id: str) -> WebhookEndpoint:
    async with sessions() as session, session.begin():
        endpoint = await session.get(WebhookEndpoint, uuid.UUID(endpoint_id))
    assert endpoint is not None
    return endpoint


@dataclass
class Subscribed:
    """Bob's endpoint and the message Ada's invitation to him produced."""

    owner: SignedIn
    endpoint: dict[str, Any]
    message_id: str

    @property
    def path(self) -> str:
        return f"/v1/webhooks/endpoints/{self.endpoint['endpoint_id']}"


async def one_message(
    client: httpx.AsyncClient, receiver: Receiver, ctx: dict[str, Any]
) -> Subscribed:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    endpoint = await register(client, bob, receiver.url(), "invitation.received")
    assert (await invite(client, ada, bob)).status_code == 201
    await fan_out_outbox(ctx)
    [message] = await messages(ctx["sessionmaker"])
    return Subscribed(bob, endpoint, message.id)
