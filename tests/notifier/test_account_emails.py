"""Issue 13: the account emails through the real SMTP catcher, their links followed the
way a member would (the page, then its form) or a web app would (the JSON endpoints):
verification, password reset, email change and its undo; each link single-use and
expiring; the token stored only as its SHA-256."""

import hashlib
import re
import uuid
from email.message import EmailMessage
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.accounts import AccountToken
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.demo import follow_emailed_link
from tests.conftest import RunWorker, SteppingClock
from tests.factories import PASSWORD, SignedIn, sign_in
from tests.notifier.conftest import Mailbox, body_text

NEW_PASSWORD = "a-much-longer-secret-42"


def _link(email: EmailMessage, page: str) -> str:
    """The token of the link to ``page`` in the email's text."""
    found = re.search(rf"https?://[^/\s]+{page}\?token=([A-Za-z0-9_-]+)", body_text(email))
    assert found is not None, body_text(email)
    return found.group(1)


def _address() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


async def _invite_by_email(client: httpx.AsyncClient, member: SignedIn) -> int:
    body = {"to_email": _address(), "note": "Hello!", "how_we_met": "coffee"}
    response = await client.post("/v1/invitations", json=body, headers=member.headers)
    return response.status_code


async def _sign_in(client: httpx.AsyncClient, email: str, password: str) -> int:
    response = await client.post("/v1/auth/token", data={"username": email, "password": password})
    return response.status_code


async def test_the_verification_link_verifies_the_address_once_and_is_stored_only_hashed(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    mailbox: Mailbox,
    run_worker: RunWorker,
) -> None:
    ada = await sign_in(committed_client, "Ada Lovelace", verified=False)
    await run_worker()
    await run_worker()  # a rerun of the event sends nothing more
    [email] = mailbox.messages_to(ada.email)
    assert str(email["Subject"]) == "Confirm your email address for Rapport"
    token = _link(email, "/account/verify-email")
    async with committed_db() as session:
        [row] = (await session.execute(select(AccountToken))).scalars().all()
        payloads = (await session.execute(select(OutboxEvent.payload))).scalars().all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(payloads) and token not in str(vars(row))

    for _ in range(2):  # a mail scanner's GET spends nothing
        page = await committed_client.get("/account/verify-email", params={"token": token})
        assert page.status_code == 200 and 'method="post"' in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
    assert await _invite_by_email(committed_client, ada) == 403

    confirmed = await committed_client.post("/account/verify-email", data={"token": token})
    assert confirmed.status_code == 200 and "confirmed" in confirmed.text
    assert await _invite_by_email(committed_client, ada) == 201
    again = await committed_client.post(
        "/v1/auth/email-verification/confirm", json={"token": token}
    )
    assert again.status_code == 409 and again.json()["type"].endswith("/account-link-used")
    page = await committed_client.get("/account/verify-email", params={"token": token})
    assert page.status_code == 409 and "already used" in page.text


async def test_a_verification_link_expires_and_a_resent_one_works(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    run_worker: RunWorker,
    clock: SteppingClock,
) -> None:
    ada = await sign_in(committed_client, "Ada", verified=False)
    await run_worker(clock)
    first = _link(mailbox.messages_to(ada.email)[0], "/account/verify-email")
    clock.advance(hours=49)
    expired = await committed_client.post(
        "/v1/auth/email-verification/confirm", json={"token": first}
    )
    assert expired.status_code == 410
    assert (await committed_client.get("/account/verify-email?token=x")).status_code == 404

    resent = await committed_client.post("/v1/auth/email-verification", headers=ada.headers)
    assert resent.status_code == 202
    await run_worker(clock)
    second = _link(mailbox.messages_to(ada.email)[1], "/account/verify-email")
    confirmed = await committed_client.post(
        "/v1/auth/email-verification/confirm", json={"token": second}
    )
    assert confirmed.status_code == 204
    assert await _invite_by_email(committed_client, ada) == 201


async def test_a_reset_link_sets_a_new_password_once_and_signs_out_every_session(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada = await sign_in(committed_client, "Ada")
    nobody = _address()
    for address in (ada.email, nobody):
        asked = await committed_client.post("/v1/auth/password-reset", json={"email": address})
        assert asked.status_code == 202
    await run_worker()
    assert mailbox.messages_to(nobody) == []
    [email] = mailbox.messages_to(ada.email)
    assert str(email["Subject"]) == "Choose a new Rapport password"
    token = _link(email, "/account/reset-password")

    page = await committed_client.get("/account/reset-password", params={"token": token})
    assert page.status_code == 200 and 'type="password"' in page.text
    common = await committed_client.post(
        "/account/reset-password", data={"token": token, "new_password": "password1234"}
    )
    assert common.status_code == 422 and "most common" in common.text
    done = await committed_client.post(
        "/account/reset-password", data={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    assert (await committed_client.get("/v1/me", headers=ada.headers)).status_code == 401
    assert await _sign_in(committed_client, ada.email, PASSWORD) == 401
    assert await _sign_in(committed_client, ada.email, NEW_PASSWORD) == 200
    reused = await committed_client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "new_password": "another-one-42"}
    )
    assert reused.status_code == 409


async def test_a_reset_link_expires_after_30_minutes(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    run_worker: RunWorker,
    clock: SteppingClock,
) -> None:
    ada = await sign_in(committed_client, "Ada")
    await committed_client.post("/v1/auth/password-reset", json={"email": ada.email})
    await run_worker(clock)
    token = _link(mailbox.messages_to(ada.email)[0], "/account/reset-password")
    clock.advance(minutes=31)
    late = await committed_client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert late.status_code == 410 and late.json()["type"].endswith("/account-link-expired")
    assert await _sign_in(committed_client, ada.email, PASSWORD) == 200


async def test_an_email_change_takes_effect_when_confirmed_and_the_old_address_can_undo_it(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada = await sign_in(committed_client, "Ada")
    old, new = ada.email, _address()
    asked = await committed_client.post(
        "/v1/auth/email", json={"password": PASSWORD, "new_email": new}, headers=ada.headers
    )
    assert asked.status_code == 202
    await run_worker()
    [confirmation] = mailbox.messages_to(new)
    me = (await committed_client.get("/v1/me", headers=ada.headers)).json()
    assert me["email"] == old  # nothing changes before the new address confirms

    token = _link(confirmation, "/account/confirm-email")
    page = await committed_client.get("/account/confirm-email", params={"token": token})
    assert page.status_code == 200
    confirmed = await committed_client.post("/account/confirm-email", data={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    me = (await committed_client.get("/v1/me", headers=ada.headers)).json()
    assert me["email"] == new
    assert await _sign_in(committed_client, new, PASSWORD) == 200

    await run_worker()
    [notice] = [m for m in mailbox.messages_to(old) if "changed" in str(m["Subject"])]
    assert new in body_text(notice)
    undo = _link(notice, "/account/undo-email-change")
    undone = await committed_client.post("/account/undo-email-change", data={"token": undo})
    assert undone.status_code == 200, undone.text
    assert (await committed_client.get("/v1/me", headers=ada.headers)).status_code == 401
    assert await _sign_in(committed_client, old, PASSWORD) == 200
    assert await _sign_in(committed_client, new, PASSWORD) == 401
    again = await committed_client.post("/v1/auth/email/undo", json={"token": undo})
    assert again.status_code == 409


async def test_an_email_change_is_refused_if_the_address_was_taken_meanwhile(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada = await sign_in(committed_client, "Ada")
    wanted = _address()
    await committed_client.post(
        "/v1/auth/email", json={"password": PASSWORD, "new_email": wanted}, headers=ada.headers
    )
    await run_worker()
    token = _link(mailbox.messages_to(wanted)[0], "/account/confirm-email")
    await sign_in(committed_client, "Bob", email=wanted)
    refused = await committed_client.post("/v1/auth/email/confirm", json={"token": token})
    assert refused.status_code == 409 and refused.json()["type"].endswith("/email-taken")
    me = (await committed_client.get("/v1/me", headers=ada.headers)).json()
    assert me["email"] == ada.email


async def test_the_demo_verifies_its_members_by_following_the_emailed_link(
    committed_client: httpx.AsyncClient, run_worker: RunWorker, settings: Settings
) -> None:
    grace = await sign_in(committed_client, "Grace", verified=False)
    await run_worker()
    verify = follow_emailed_link(Path(settings.mailbox.folder), within=5)
    await verify(committed_client, str(grace.member_id), grace.email)
    me = (await committed_client.get("/v1/me", headers=grace.headers)).json()
    assert me["email_verified_at"] is not None
    assert await _invite_by_email(committed_client, grace) == 201
