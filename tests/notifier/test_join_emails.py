"""The join email: one per address per 30 days from all senders, through the real SMTP
catcher, with a signed, expiring, single-use link to join and a link to stop them all."""

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import uuid4

import httpx

from rapport_common.events import EventEnvelope
from services.notifier.webhooks import routing
from tests.api.test_email_invitations import invite_by_email, new_address, register_with_token
from tests.conftest import SteppingClock
from tests.factories import sign_in
from tests.notifier.conftest import Mailbox, body_text

RunWorker = Callable[[], Awaitable[None]]


def _links(email: EmailMessage) -> tuple[str, str]:
    """The join token in the body, and the stop link's path from List-Unsubscribe."""
    found = re.search(r"/v1/join/(\S+)", body_text(email))
    assert found is not None
    unsubscribe = str(email["List-Unsubscribe"])
    stop = re.fullmatch(r"<https?://[^/]+(/v1/do-not-contact/\S+)>", unsubscribe)
    assert stop is not None, unsubscribe
    return found.group(1), stop.group(1)


async def test_a_non_member_gets_one_join_email_with_a_signed_expiring_single_use_link(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    run_worker: RunWorker,
    clock: SteppingClock,
) -> None:
    ada = await sign_in(committed_client, "Ada Lovelace")
    address = new_address()
    sent = await invite_by_email(committed_client, ada, address, note="Coffee again soon?")
    assert sent.status_code == 201
    await run_worker()
    await run_worker()  # a rerun of the event sends nothing more
    [email] = mailbox.messages_to(address)
    assert str(email["Subject"]) == "Ada Lovelace invites you to Rapport"
    assert "Coffee again soon?" in body_text(email)
    assert str(email["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    token, _ = _links(email)
    shown = await committed_client.get(f"/v1/join/{token}")
    assert shown.status_code == 200 and shown.json()["inviter"]["name"] == "Ada Lovelace"

    dana = await register_with_token(committed_client, address, token)
    received = (await committed_client.get("/v1/invitations", headers=dana.headers)).json()
    assert [i["inviter"]["name"] for i in received["items"]] == ["Ada Lovelace"]
    used = await committed_client.get(f"/v1/join/{token}")
    assert used.status_code == 409

    later = new_address()
    await invite_by_email(committed_client, ada, later)
    await run_worker()
    [second] = mailbox.messages_to(later)
    clock.advance(days=30)
    expired = await committed_client.get(f"/v1/join/{_links(second)[0]}")
    assert expired.status_code == 410


async def test_one_address_gets_at_most_one_join_email_per_30_days_from_all_senders(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    run_worker: RunWorker,
    clock: SteppingClock,
) -> None:
    senders = [await sign_in(committed_client, name) for name in ("Ada", "Bob", "Carol")]
    address = new_address()
    for sender in senders:
        assert (await invite_by_email(committed_client, sender, address)).status_code == 201
        clock.advance(days=10)
    await run_worker()
    assert len(mailbox.messages_to(address)) == 1
    clock.advance(seconds=1)  # 30 days and a second after the first
    await invite_by_email(committed_client, senders[1], address)
    await run_worker()
    assert [str(m["Subject"]) for m in mailbox.messages_to(address)] == [
        "Ada invites you to Rapport",
        "Bob invites you to Rapport",
    ]


async def test_the_stop_link_stops_every_later_email_until_the_address_is_verified(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    run_worker: RunWorker,
    clock: SteppingClock,
) -> None:
    ada, bob = await sign_in(committed_client, "Ada"), await sign_in(committed_client, "Bob")
    address = new_address()
    await invite_by_email(committed_client, ada, address)
    await run_worker()
    [email] = mailbox.messages_to(address)
    _, stop = _links(email)
    assert (await committed_client.post(stop)).status_code == 204

    clock.advance(days=31)
    await invite_by_email(committed_client, bob, address)
    await run_worker()
    assert len(mailbox.messages_to(address)) == 1

    # Registering clears nothing: Bob's invitation waits in the feed, and Ada's new one
    # (to a member's address now) too; the only email is the verification Dana asked for.
    dana = await sign_in(committed_client, "Dana", email=address, verified=False)
    await invite_by_email(committed_client, ada, address)
    await run_worker()
    feed = (await committed_client.get("/v1/notifications", headers=dana.headers)).json()
    assert [n["kind"] for n in feed["items"]] == ["invitation_received"] * 2
    [_, verification] = mailbox.messages_to(address)
    assert str(verification["Subject"]) == "Confirm your email address for Rapport"

    # Once she has shown the address is hers, her own preferences decide.
    token = re.search(r"/account/verify-email\?token=([A-Za-z0-9_-]+)", body_text(verification))
    assert token is not None
    confirm = {"token": token.group(1)}
    verified = await committed_client.post("/v1/auth/email-verification/confirm", json=confirm)
    assert verified.status_code == 204
    cy = await sign_in(committed_client, "Cy")
    await invite_by_email(committed_client, cy, address)
    await run_worker()
    assert len(mailbox.messages_to(address)) == 3


def test_neither_new_event_becomes_a_partner_webhook() -> None:
    payloads = {
        "email_invitation.sent": {"email_invitation_id": str(uuid4()), "inviter_id": str(uuid4())},
        "invitation.declined_quietly": {
            "invitation_id": str(uuid4()),
            "inviter_id": str(uuid4()),
            "invitee_id": str(uuid4()),
        },
    }
    for event_type, payload in payloads.items():
        envelope = EventEnvelope(
            event_id=uuid4(),
            sequence=1,
            type=event_type,
            version=1,
            occurred_at=datetime(2026, 12, 2, tzinfo=UTC),
            payload=payload,
        )
        assert routing.route(envelope) == []
