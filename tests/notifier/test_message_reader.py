"""Each member reads their messages in their own terms: greeted by the given name they
chose, with deadlines in their time zone and written as their locale writes them, in
the email and in the app alike."""

import uuid
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.invitations import Invitation
from tests.factories import invitation_id, sign_in_all
from tests.notifier.conftest import Mailbox, body_text


async def test_a_question_deadline_reads_in_the_inviters_zone_and_locale_by_given_name(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    mailbox: Mailbox,
    run_worker: Callable[[], Awaitable[None]],
) -> None:
    ada, bob = await sign_in_all(committed_client, "Augusta Ada King", "Bob")
    changed = await committed_client.patch(
        "/v1/me",
        json={"given_name": "Ada", "time_zone": "Asia/Tokyo", "locale": "en-GB"},
        headers=ada.headers,
    )
    assert changed.status_code == 200 and changed.json()["given_name"] == "Ada"
    sent = await invitation_id(committed_client, ada, bob)
    asked = await committed_client.post(
        f"/v1/invitations/{sent}/ask", json={"question": "Where did we meet?"}, headers=bob.headers
    )
    assert asked.status_code == 200, asked.text
    await run_worker()
    async with committed_db() as session:
        invitation = await session.get(Invitation, uuid.UUID(sent))
    assert invitation is not None and invitation.question_expires_at is not None
    local = invitation.question_expires_at.astimezone(ZoneInfo("Asia/Tokyo"))
    deadline = f"{local.day} {local:%b %Y, %H:%M} (Japan Time)"
    [email] = [m for m in mailbox.messages_to(ada.email) if "question" in str(m["Subject"])]
    text = body_text(email)
    assert text.startswith("Hi Ada,\r\n")  # as SMTP carries lines
    assert f"Answer it before {deadline}" in text
    feed = (await committed_client.get("/v1/notifications", headers=ada.headers)).json()
    [shown] = [n for n in feed["items"] if n["kind"] == "question_asked"]
    assert f"Answer it before {deadline}" in shown["body_text"]


async def test_a_given_name_is_one_line_of_at_most_60_characters(
    committed_client: httpx.AsyncClient,
) -> None:
    [ada] = await sign_in_all(committed_client, "Ada Lovelace")
    for bad in ["", " ", "A" * 61, "Ada\nBcc", "Ada\x00", 7]:
        response = await committed_client.patch(
            "/v1/me", json={"given_name": bad}, headers=ada.headers
        )
        assert response.status_code == 422, (bad, response.text)
    cleared = await committed_client.patch("/v1/me", json={"given_name": None}, headers=ada.headers)
    assert cleared.status_code == 200 and cleared.json()["given_name"] is None
