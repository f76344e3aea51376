"""The worker's jobs and crons take "now" from the clock in their context, and only
from it: what they store, send and decide follows that clock."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.clock import SteppingClock
from rapport_common.models.notifications import Notification
from services.notifier.notifications import crons
from tests.factories import invitation_id, sign_in_all
from tests.notifier.conftest import Mailbox

# Far from the real date, so nothing here can pass by reading the system's clock.
MOMENT = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)


async def _notification(
    db: async_sessionmaker[AsyncSession], kind: str
) -> tuple[datetime, datetime | None]:
    async with db() as session:
        row = (
            await session.execute(
                select(Notification.created_at, Notification.emailed_at).where(
                    Notification.kind == kind
                )
            )
        ).one()
    return row.created_at, row.emailed_at


async def test_an_event_job_stores_and_emails_on_the_workers_clock(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    mailbox: Mailbox,
    run_worker: Callable[..., Awaitable[None]],
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await invitation_id(committed_client, ada, bob)
    await run_worker(clock=SteppingClock(MOMENT))
    assert await _notification(committed_db, "invitation_received") == (MOMENT, MOMENT)
    [email] = mailbox.messages_to(bob.email)
    assert parsedate_to_datetime(str(email["Date"])) == MOMENT


async def test_a_cron_acts_on_the_moment_its_clock_says(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    worker_ctx: dict[str, Any],
    mailbox: Mailbox,
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    sent = await invitation_id(committed_client, ada, bob)
    await committed_client.post(
        f"/v1/invitations/{sent}/later", json={"days": 2}, headers=bob.headers
    )
    worker_ctx["clock"] = SteppingClock(MOMENT)
    assert await crons.return_deferred_invitations(worker_ctx) == 1
    assert await _notification(committed_db, "invitation_back") == (MOMENT, MOMENT)
    [back] = [m for m in mailbox.messages_to(bob.email) if "Time to decide" in str(m["Subject"])]
    assert parsedate_to_datetime(str(back["Date"])) == MOMENT
