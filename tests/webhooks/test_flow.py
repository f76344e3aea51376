"""End to end through the queue: the arq worker, in burst mode, retries a message until
the receiver takes it, with real commits."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook

from rapport_common.models.webhooks import WebhookAttempt
from rapport_common.settings import Settings
from services.notifier.queue import JobQueue
from services.notifier.webhooks.jobs import deliver_webhook
from services.notifier.worker import build_worker
from tests.factories import invite, sign_in_all
from tests.webhooks.conftest import fan_out_outbox, register, with_webhooks
from tests.webhooks.receiver import Receiver, Reply


async def test_a_receiver_failing_three_times_gets_the_same_signed_message_until_it_succeeds(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    receiver: Receiver,
) -> None:
    # A schedule of zeros, so the retries run at once instead of after real delays.
    fast = with_webhooks(settings, retry_schedule_seconds=[0, 0, 0, 0])
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    endpoint = await register(committed_client, bob, receiver.url(), "invitation.received")
    assert (await invite(committed_client, ada, bob)).status_code == 201
    receiver.answer(Reply(500), Reply(500), Reply(500), Reply(204))

    await fan_out_outbox({"settings": fast, "sessionmaker": committed_db, "redis": queue.redis})
    async with httpx.AsyncClient() as unused_graph_client:
        worker = build_worker(
            fast,
            ctx={
                "sessionmaker": committed_db,
                "graph_client": unused_graph_client,
                "run_relay": False,
                "serve_health": False,
            },
            functions=[deliver_webhook],
            cron_jobs=[],
            burst=True,
            handle_signals=False,
            poll_delay=0.05,
        )
        await worker.main()
        await worker.close()

    assert len(receiver.received) == 4
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1
    for request in receiver.received:
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
    async with committed_db() as session:
        rows = await session.execute(select(WebhookAttempt).order_by(WebhookAttempt.attempt))
        log = [(a.attempt, a.status_code) for a in rows.scalars()]
    assert log == [(1, 500), (2, 500), (3, 500), (4, 204)]
