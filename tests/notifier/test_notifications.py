"""Messages reach members once: by email through the real SMTP catcher, and in the feed."""

from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.notifications import Notification
from rapport_common.outbox import OutboxEvent
from tests.factories import connect, invitation_id, sign_in_all
from tests.notifier.conftest import Mailbox, body_text


async def test_a_decline_sends_exactly_one_email_with_the_note(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    run_worker: Callable[[], Awaitable[None]],
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada Lovelace", "Bob Builder")
    sent = await invitation_id(committed_client, ada, bob, how_we_met="never_met")
    await committed_client.post(
        f"/v1/invitations/{sent}/decline",
        json={"note": "Let's have lunch first, Ada."},
        headers=bob.headers,
    )
    await run_worker()
    emails = [m for m in mailbox.messages_to(ada.email) if "note from" in str(m["Subject"])]
    assert len(emails) == 1
    assert "Let's have lunch first, Ada." in body_text(emails[0])
    html_part = emails[0].get_body(preferencelist=("html",))
    assert html_part is not None
    assert "Change or stop emails like this one" in str(html_part.get_content())


async def test_replaying_the_decline_event_sends_no_second_email(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    mailbox: Mailbox,
    run_worker: Callable[[], Awaitable[None]],
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    sent = await invitation_id(committed_client, ada, bob)
    await committed_client.post(f"/v1/invitations/{sent}/decline", headers=bob.headers)
    await run_worker()
    async with committed_db() as session, session.begin():
        # As if the job ran again after a crash: the event is relayed once more.
        await session.execute(update(OutboxEvent).values(completed_at=None, relayed_at=None))
    await run_worker()
    declines = [m for m in mailbox.messages_to(ada.email) if "A note from" in str(m["Subject"])]
    assert len(declines) == 1
    async with committed_db() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "invitation_declined")
        )
    assert count == 1


async def test_the_feed_lists_and_marks_notifications_read(
    committed_client: httpx.AsyncClient, run_worker: Callable[[], Awaitable[None]]
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    feed = (await committed_client.get("/v1/notifications", headers=bob.headers)).json()
    [received] = [n for n in feed["items"] if n["kind"] == "invitation_received"]
    read = await committed_client.post(
        f"/v1/notifications/{received['notification_id']}/read", headers=bob.headers
    )
    assert read.json()["read_at"] is not None
    unread = (
        await committed_client.get("/v1/notifications?unread=true", headers=bob.headers)
    ).json()
    assert received["notification_id"] not in [n["notification_id"] for n in unread["items"]]


async def test_another_members_notification_is_404(
    committed_client: httpx.AsyncClient, run_worker: Callable[[], Awaitable[None]]
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    [received] = (await committed_client.get("/v1/notifications", headers=bob.headers)).json()[
        "items"
    ]
    response = await committed_client.post(
        f"/v1/notifications/{received['notification_id']}/read", headers=ada.headers
    )
    assert response.status_code == 404


async def test_a_referrer_is_asked_to_confirm_by_email(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: Callable[[], Awaitable[None]]
) -> None:
    ada, bob, alice = await sign_in_all(committed_client, "Ada", "Bob", "Alice")
    await connect(committed_client, alice, ada)
    await connect(committed_client, alice, bob)
    await invitation_id(committed_client, ada, bob, referred_by_member_id=str(alice.member_id))
    await run_worker()
    asks = [m for m in mailbox.messages_to(alice.email) if "Did you suggest" in str(m["Subject"])]
    assert len(asks) == 1
