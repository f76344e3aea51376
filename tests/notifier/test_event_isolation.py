"""One consumer failing does not cost an event its other consumers: hostile stored text
is written safely, an email that cannot be sent is given up alone, and a consumer that
keeps failing dead-letters its event, visibly, with the others done."""

import asyncio
import os
import sys
import uuid

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.members import Member
from rapport_common.models.notifications import Notification
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.notifier.health import create_health_app
from services.notifier.queue import JobQueue
from tests.conftest import RunWorker
from tests.factories import SignedIn, connect, invitation_id, sign_in_all
from tests.notifier.conftest import Mailbox, body_text
from tests.webhooks.receiver import Receiver

Sessions = async_sessionmaker[AsyncSession]
HOSTILE_NAME = "Bob\r\nBcc: mallory@example.com"


async def _set_member(db: Sessions, member: SignedIn, **values: str) -> None:
    """Write straight to the table, as rows stored before the API refused such text."""
    async with db() as session, session.begin():
        await session.execute(update(Member).where(Member.id == member.member_id).values(values))


async def _subscribe(
    client: httpx.AsyncClient, member: SignedIn, receiver: Receiver, *event_types: str
) -> None:
    response = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": receiver.url(), "event_types": list(event_types)},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text


async def _events(db: Sessions, event_type: str | None = None) -> list[OutboxEvent]:
    async with db() as session:
        query = select(OutboxEvent).order_by(OutboxEvent.sequence)
        if event_type is not None:
            query = query.where(OutboxEvent.type == event_type)
        return list((await session.execute(query)).scalars())


async def test_a_line_break_in_a_stored_name_costs_no_email_and_no_webhook(
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    mailbox: Mailbox,
    receiver: Receiver,
    run_worker: RunWorker,
) -> None:
    ada, bob, carol = await sign_in_all(committed_client, "Ada", "Bob", "Carol")
    await _subscribe(committed_client, ada, receiver, "invitation.declined")
    to_bob = await invitation_id(committed_client, ada, bob)
    await _set_member(committed_db, bob, name=HOSTILE_NAME)
    await invitation_id(committed_client, bob, carol)
    declined = await committed_client.post(
        f"/v1/invitations/{to_bob}/decline", json={"note": "Not now."}, headers=bob.headers
    )
    assert declined.status_code == 200, declined.text

    await run_worker()

    [note] = [m for m in mailbox.messages_to(ada.email) if "A note from" in str(m["Subject"])]
    assert str(note["Subject"]) == "A note from Bob Bcc: mallory@example.com"
    assert note["Bcc"] is None
    assert "Not now." in body_text(note)
    [invited] = mailbox.messages_to(carol.email)
    assert str(invited["Subject"]) == "Bob Bcc: mallory@example.com wants to connect"
    assert ['"type":"invitation.declined"' in r.body for r in receiver.received] == [True]
    assert all(e.completed_at is not None for e in await _events(committed_db))


async def test_an_email_that_cannot_be_written_is_given_up_and_its_event_completes(
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    receiver: Receiver,
    run_worker: RunWorker,
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await _subscribe(committed_client, ada, receiver, "invitation.declined")
    sent = await invitation_id(committed_client, ada, bob)
    await _set_member(committed_db, ada, email="ada\r\nBcc: mallory@example.com")
    await committed_client.post(f"/v1/invitations/{sent}/decline", headers=bob.headers)

    await run_worker()

    async with committed_db() as session:
        [note] = (
            await session.execute(
                select(Notification).where(Notification.kind == "invitation_declined")
            )
        ).scalars()
    assert note.emailed_at is None and note.email_failed_at is not None
    assert "cannot be written in an email" in (note.email_error or "")
    assert len(receiver.received) == 1
    [event] = await _events(committed_db, "invitation.declined")
    assert event.completed_at is not None and event.last_error is None


async def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {**os.environ, "RAPPORT_POSTGRES__DATABASE": settings.postgres.database}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def _outbox_health(settings: Settings, db: Sessions, queue: JobQueue) -> dict[str, object]:
    ctx = {"settings": settings, "sessionmaker": db, "redis": queue.redis}
    transport = httpx.ASGITransport(app=create_health_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        response = await client.get("/outbox")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def test_a_consumer_that_keeps_failing_dead_letters_its_event_after_the_others_ran(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    queue: JobQueue,
    mailbox: Mailbox,
    receiver: Receiver,
    run_worker: RunWorker,
    graph_down: httpx.AsyncClient,
) -> None:
    two_tries = settings.model_copy(
        update={"worker": settings.worker.model_copy(update={"max_tries": 2})}
    )
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await _subscribe(committed_client, ada, receiver, "connection.created")
    await connect(committed_client, ada, bob)

    await run_worker(worker_settings=two_tries, graph=graph_down)

    [created] = await _events(committed_db, "connection.created")
    assert created.completed_at is None and created.dead_at is not None
    assert created.attempts == 2
    assert created.consumed_by == [
        "notifications",
        "webhooks",
        "join_emails",
        "account_emails",
        "exports",
    ]
    assert (created.last_error or "").startswith("graph: TransientError: graph service")
    assert ['"type":"connection.created"' in r.body for r in receiver.received] == [True]
    accepted = [m for m in mailbox.messages_to(ada.email) if "accepted" in str(m["Subject"])]
    assert len(accepted) == 1

    dead = [e for e in await _events(committed_db) if e.dead_at is not None]
    health = await _outbox_health(settings, committed_db, queue)
    assert health["dead_events"] == len(dead) and health["unfinished_events"] == 0
    status, listing = await _cli(settings, "outbox", "dead")
    assert status == 0, listing
    assert f"{created.id}  connection.created" in listing
    assert "consumers done: notifications,webhooks" in listing

    status, output = await _cli(settings, "outbox", "retry", *(str(e.id) for e in dead))
    assert status == 0, output
    await run_worker(worker_settings=two_tries)

    events = await _events(committed_db)
    assert all(e.completed_at is not None and e.dead_at is None for e in events)
    assert len(receiver.received) == 1  # the webhooks consumer was done: not run again
    accepted = [m for m in mailbox.messages_to(ada.email) if "accepted" in str(m["Subject"])]
    assert len(accepted) == 1
    assert (await _outbox_health(settings, committed_db, queue))["dead_events"] == 0


async def test_retrying_an_event_that_is_not_dead_is_refused(
    settings: Settings, committed_db: Sessions
) -> None:
    missing = uuid.uuid4()
    status, output = await _cli(settings, "outbox", "retry", str(missing))
    assert status == 1
    assert f"not a dead outbox event: {missing}" in output
