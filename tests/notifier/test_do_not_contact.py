"""The do-not-contact list holds for every unsolicited email the notifier sends: each
kind of notification to an address not yet verified, and the join email. The
notification stays in the feed. Account emails, which answer a request made with the
address, still reach it, and a member who verified the address gets what they chose."""

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.domain import email_links
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.notifications import Notification
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.notifier.notifications import catalogue
from services.notifier.notifications.join_emails import send_join_email
from services.notifier.notifications.store import DO_NOT_CONTACT, Draft, deliver, store
from tests.api.test_email_invitations import invite_by_email, new_address
from tests.conftest import RunWorker
from tests.factories import PASSWORD, sign_in
from tests.notifier.conftest import Mailbox, body_text

Sessions = async_sessionmaker[AsyncSession]


async def _stop(client: httpx.AsyncClient, settings: Settings, address: str) -> None:
    """Click the stop link this address would get."""
    keys = settings.email_invitations
    hashed = email_links.address_hash(keys.address_key.get_secret_value(), address)
    token = email_links.sign(keys.link_key.get_secret_value(), "stop", hashed, None)
    assert (await client.post(f"/v1/do-not-contact/{token}")).status_code == 204


async def _notify(
    db: Sessions, settings: Settings, ctx: dict[str, Any], member_id: uuid.UUID, kind: str
) -> Notification:
    draft = Draft(member_id=member_id, kind=kind, dedupe_key=f"test:{uuid.uuid4()}", facts={})
    async with db() as session:
        ids = await store(session, settings, [draft], ctx["clock"]())
        await session.commit()
        await deliver(session, settings, ctx["mailer"], ids, ctx["clock"])
    async with db() as session:
        notification = await session.get(Notification, ids[0])
    assert notification is not None
    return notification


@pytest.mark.parametrize("kind", [*sorted(catalogue.kinds()), "join"])
async def test_the_do_not_contact_list_is_respected_by_every_email_kind(
    kind: str,
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    worker_ctx: dict[str, Any],
    settings: Settings,
    mailbox: Mailbox,
) -> None:
    if kind == "join":
        ada = await sign_in(committed_client, "Ada")
        address = new_address()
        sent = (await invite_by_email(committed_client, ada, address)).json()
        await _stop(committed_client, settings, address)  # after the send, before the email
        async with committed_db() as session:
            [event] = (
                await session.execute(
                    select(OutboxEvent).where(OutboxEvent.type == "email_invitation.sent")
                )
            ).scalars()
            await send_join_email(worker_ctx, event.envelope(), session)
            row = await session.get(EmailInvitation, uuid.UUID(sent["email_invitation_id"]))
        assert row is not None and row.join_email
        failed_at, error = row.email_failed_at, row.email_error
    else:  # an address not yet verified: nobody has shown it is theirs
        member = await sign_in(committed_client, "Bob", verified=False)
        address = member.email
        await _stop(committed_client, settings, address)
        notification = await _notify(committed_db, settings, worker_ctx, member.member_id, kind)
        failed_at, error = notification.email_failed_at, notification.email_error
    assert mailbox.messages_to(address) == []
    assert failed_at is not None and error == DO_NOT_CONTACT


async def test_a_member_who_verified_a_stopped_address_gets_the_emails_they_chose(
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    worker_ctx: dict[str, Any],
    settings: Settings,
    mailbox: Mailbox,
) -> None:
    dee = await sign_in(committed_client, "Dee")  # verified by the factory
    await _stop(committed_client, settings, dee.email)
    sent = await _notify(committed_db, settings, worker_ctx, dee.member_id, "invitation_back")
    assert sent.emailed_at is not None and sent.email_error is None
    assert len(mailbox.messages_to(dee.email)) == 1


async def test_an_address_not_on_the_list_gets_its_email(
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    worker_ctx: dict[str, Any],
    settings: Settings,
    mailbox: Mailbox,
) -> None:
    listed, other = await sign_in(committed_client, "Bob"), await sign_in(committed_client, "Cy")
    await _stop(committed_client, settings, listed.email)
    sent = await _notify(committed_db, settings, worker_ctx, other.member_id, "invitation_back")
    assert sent.emailed_at is not None
    assert len(mailbox.messages_to(other.email)) == 1


async def test_an_address_on_the_list_still_gets_the_account_emails_it_asks_for(
    committed_client: httpx.AsyncClient,
    settings: Settings,
    mailbox: Mailbox,
    run_worker: RunWorker,
) -> None:
    """Someone who once stopped the join emails can still open an account with the
    address and verify it, or reset its password."""
    address = new_address()
    await _stop(committed_client, settings, address)
    registered = await committed_client.post(
        "/v1/auth/register", json={"email": address, "password": PASSWORD, "name": "Dee"}
    )
    assert registered.status_code == 201, registered.text
    reset = await committed_client.post("/v1/auth/password-reset", json={"email": address})
    assert reset.status_code == 202
    await run_worker()
    subjects = sorted(str(email["Subject"]) for email in mailbox.messages_to(address))
    assert subjects == ["Choose a new Rapport password", "Confirm your email address for Rapport"]
    [verification] = [
        email for email in mailbox.messages_to(address) if "Confirm" in str(email["Subject"])
    ]
    token = re.search(r"/account/verify-email\?token=([A-Za-z0-9_-]+)", body_text(verification))
    assert token is not None
    confirmed = await committed_client.post(
        "/v1/auth/email-verification/confirm", json={"token": token.group(1)}
    )
    assert confirmed.status_code == 204
