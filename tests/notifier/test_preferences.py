"""Notification preferences, honoured per channel: in the feed or not, emailed at once,
in the daily digest or not at all; and the one-click unsubscribe link of every email."""

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.clock import SteppingClock
from rapport_common.domain import notification_kinds
from rapport_common.models.notifications import Notification
from rapport_common.settings import Settings
from services.notifier.notifications import catalogue, digest
from services.notifier.notifications.store import Draft, deliver, store
from tests.factories import SignedIn, invitation_id, sign_in, sign_in_all
from tests.notifier.conftest import Mailbox, body_text

Sessions = async_sessionmaker[AsyncSession]
RunWorker = Callable[[], Awaitable[None]]
PREFERENCES = "/v1/me/notification-preferences"
ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def _set(client: httpx.AsyncClient, member: SignedIn, kind: str, **fields: object) -> None:
    response = await client.patch(
        PREFERENCES, json={"preferences": [{"kind": kind, **fields}]}, headers=member.headers
    )
    assert response.status_code == 200, response.text


def _invitations(mailbox: Mailbox, member: SignedIn) -> list[Any]:
    return [m for m in mailbox.messages_to(member.email) if "wants to connect" in str(m["Subject"])]


def _unsubscribe_path(message: Any) -> str:
    found = re.fullmatch(
        r"<https?://[^/]+(/v1/email-preferences/[^>]+)>", message["List-Unsubscribe"]
    )
    assert found is not None, message["List-Unsubscribe"]
    return found.group(1)


async def _feed_kinds(client: httpx.AsyncClient, member: SignedIn) -> list[str]:
    feed = (await client.get("/v1/notifications", headers=member.headers)).json()
    return [n["kind"] for n in feed["items"]]


async def test_every_kind_is_listed_with_its_defaults_and_what_it_allows(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client, "Ada")
    listed = (await client.get(PREFERENCES, headers=ada.headers)).json()
    by_kind = {entry["kind"]: entry for entry in listed["preferences"]}
    assert set(by_kind) == {*notification_kinds.CHOICES, "account"}
    assert by_kind["nudge"] | {"label": ""} == {
        "kind": "nudge",
        "label": "",
        "email": "instant",
        "in_app": True,
        "email_options": ["instant", "digest", "off"],
        "changeable": True,
    }
    assert by_kind["question_asked"]["email_options"] == ["instant", "off"]
    assert by_kind["account"]["changeable"] is False
    assert (listed["digest_hour"], listed["time_zone"]) == (8, "UTC")


@pytest.mark.parametrize(
    "entry",
    [
        {"kind": "question_asked", "email": "digest"},
        {"kind": "account", "email": "off"},
        {"kind": "no_such_kind", "email": "off"},
        {"kind": "nudge", "email": "weekly"},
        {"kind": "nudge", "in_app": "no"},
        {"kind": "nudge", "email": "off", "extra": 1},
        {"kind": "nudge\x00", "email": "off"},
    ],
)
async def test_a_change_outside_what_a_kind_allows_is_422(
    client: httpx.AsyncClient, entry: dict[str, object]
) -> None:
    ada = await sign_in(client, "Ada")
    response = await client.patch(PREFERENCES, json={"preferences": [entry]}, headers=ada.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_put_sets_every_preference_and_resets_the_kinds_it_leaves_out(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client, "Ada")
    await _set(client, ada, "nudge", email="off")
    wanted = {"preferences": [{"kind": "invitation_received", "email": "digest", "in_app": False}]}
    listed = (await client.put(PREFERENCES, json=wanted, headers=ada.headers)).json()
    by_kind = {entry["kind"]: entry for entry in listed["preferences"]}
    assert (by_kind["invitation_received"]["email"], by_kind["invitation_received"]["in_app"]) == (
        "digest",
        False,
    )
    assert by_kind["nudge"]["email"] == "instant"
    twice = {"preferences": [wanted["preferences"][0]] * 2}
    assert (await client.put(PREFERENCES, json=twice, headers=ada.headers)).status_code == 422


async def test_in_app_off_hides_it_from_the_feed_and_still_emails_it(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await _set(committed_client, bob, "invitation_received", in_app=False)
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    assert "invitation_received" not in await _feed_kinds(committed_client, bob)
    assert len(_invitations(mailbox, bob)) == 1


async def test_email_off_sends_no_email_and_keeps_it_in_the_feed(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await _set(committed_client, bob, "invitation_received", email="off")
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    assert "invitation_received" in await _feed_kinds(committed_client, bob)
    assert _invitations(mailbox, bob) == []


async def test_the_digest_gathers_the_days_messages_into_one_email_sent_once(
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    mailbox: Mailbox,
    run_worker: RunWorker,
    worker_ctx: dict[str, Any],
) -> None:
    ada, cy, bob = await sign_in_all(committed_client, "Ada Lovelace", "Cy Young", "Bob")
    await committed_client.patch("/v1/me", json={"time_zone": "Asia/Tokyo"}, headers=bob.headers)
    await _set(committed_client, bob, "invitation_received", email="digest")
    await invitation_id(committed_client, ada, bob)
    await invitation_id(committed_client, cy, bob)
    await run_worker()
    assert _invitations(mailbox, bob) == []
    tokyo = ZoneInfo("Asia/Tokyo")
    tomorrow = worker_ctx["clock"]().astimezone(tokyo).date() + timedelta(days=1)
    early = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, 30, tzinfo=tokyo)
    worker_ctx["clock"] = clock = SteppingClock(early)
    assert await digest.send_digests(worker_ctx) == 0  # before 08:00 in Tokyo
    clock.advance(hours=1)
    assert await digest.send_digests(worker_ctx) == 1
    clock.advance(minutes=30)
    assert await digest.send_digests(worker_ctx) == 0
    [sent] = [m for m in mailbox.messages_to(bob.email) if "digest" in str(m["Subject"])]
    dee = await sign_in(committed_client, "Dee Late")
    await invitation_id(committed_client, dee, bob)
    await run_worker()
    assert await digest.send_digests(worker_ctx) == 0  # today's went: tomorrow's has it
    clock.advance(days=1)
    assert await digest.send_digests(worker_ctx) == 1
    digests = [m for m in mailbox.messages_to(bob.email) if "digest" in str(m["Subject"])]
    assert len(digests) == 2 and "Dee Late" not in body_text(sent)
    text = body_text(sent)
    assert "Ada Lovelace wants to connect" in text and "Cy Young wants to connect" in text
    assert sent["List-Unsubscribe-Post"] == ONE_CLICK
    async with committed_db() as session:
        carried = (
            await session.execute(
                select(Notification.digest_id).where(
                    Notification.member_id == bob.member_id,
                    Notification.kind == "invitation_received",
                )
            )
        ).scalars()
        digest_ids = list(carried)
    # Three invitations, each carried by one of the two digests.
    assert len(digest_ids) == 3 and None not in digest_ids and len(set(digest_ids)) == 2


@pytest.mark.parametrize("kind", sorted(notification_kinds.CHOICES))
async def test_every_kind_a_member_may_switch_off_carries_the_one_click_headers(
    kind: str,
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    worker_ctx: dict[str, Any],
    settings: Settings,
    mailbox: Mailbox,
) -> None:
    ada = await sign_in(committed_client, "Ada")
    draft = Draft(member_id=ada.member_id, kind=kind, dedupe_key=f"test:{uuid.uuid4()}", facts={})
    async with committed_db() as session:
        if kind in catalogue.kinds():
            ids = await store(session, settings, [draft], worker_ctx["clock"]())
        else:  # written by its own module (webhooks), not from the catalogue
            ids = [uuid.uuid4()]
            session.add(
                Notification(
                    id=ids[0],
                    member_id=ada.member_id,
                    kind=kind,
                    dedupe_key=draft.dedupe_key,
                    subject="Webhook endpoint disabled",
                    body_text="It is.",
                    body_html="<p>It is.</p>",
                )
            )
        await session.commit()
        await deliver(session, settings, worker_ctx["mailer"], ids, worker_ctx["clock"])
    [sent] = mailbox.messages_to(ada.email)
    assert sent["List-Unsubscribe-Post"] == ONE_CLICK
    path = _unsubscribe_path(sent)
    assert path in body_text(sent)
    assert "/docs" not in body_text(sent)
    assert sent["Auto-Submitted"] == "auto-generated"


async def test_one_click_from_the_email_stops_that_kind_of_email(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada, cy, bob = await sign_in_all(committed_client, "Ada", "Cy", "Bob")
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    [first] = _invitations(mailbox, bob)
    path = _unsubscribe_path(first)
    shown = await committed_client.get(path)
    assert shown.status_code == 200 and "Stop these emails" in shown.text
    clicked = await committed_client.post(path, content=ONE_CLICK, headers=FORM)
    assert clicked.status_code == 200, clicked.text
    await invitation_id(committed_client, cy, bob)
    await run_worker()
    assert len(_invitations(mailbox, bob)) == 1
    listed = (await committed_client.get(PREFERENCES, headers=bob.headers)).json()
    [entry] = [e for e in listed["preferences"] if e["kind"] == "invitation_received"]
    assert (entry["email"], entry["in_app"]) == ("off", True)


async def test_showing_the_preference_page_changes_nothing(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada, cy, bob = await sign_in_all(committed_client, "Ada", "Cy", "Bob")
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    [first] = _invitations(mailbox, bob)
    for _ in range(2):
        assert (await committed_client.get(_unsubscribe_path(first))).status_code == 200
    await invitation_id(committed_client, cy, bob)
    await run_worker()
    assert len(_invitations(mailbox, bob)) == 2


async def test_a_forged_or_altered_link_is_404(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    path = _unsubscribe_path(_invitations(mailbox, bob)[0])
    token = path.rsplit("/", 1)[1]
    purpose, subject, expiry, signature = token.split(".")
    other_member = subject.replace(str(bob.member_id), str(ada.member_id))
    altered = [
        f"{purpose}.{other_member}.{expiry}.{signature}",
        f"{purpose}.{subject.replace('invitation_received', 'nudge')}.{expiry}.{signature}",
        f"{purpose}.{subject}.{expiry}.{signature[:-2]}AA",
        f"join.{subject}.{expiry}.{signature}",
        "not-a-token",
        "%00",
    ]
    for forged in altered:
        for method in ("GET", "POST"):
            response = await committed_client.request(
                method, f"/v1/email-preferences/{forged}", content=ONE_CLICK, headers=FORM
            )
            assert response.status_code == 404, (forged, response.text)
            assert response.headers["content-type"] == "application/problem+json"


async def test_a_form_that_is_neither_one_click_nor_a_choice_is_422(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    path = _unsubscribe_path(_invitations(mailbox, bob)[0])
    for body in ("email=weekly", "List-Unsubscribe=Two-Clicks", "other=1", "email=off&email=on"):
        response = await committed_client.post(path, content=body, headers=FORM)
        assert response.status_code == 422, (body, response.text)
    chosen = await committed_client.post(path, content="email=digest", headers=FORM)
    assert chosen.status_code == 200
    listed = (await committed_client.get(PREFERENCES, headers=bob.headers)).json()
    [entry] = [e for e in listed["preferences"] if e["kind"] == "invitation_received"]
    assert entry["email"] == "digest"


async def test_no_form_or_link_gives_a_500(
    committed_client: httpx.AsyncClient, mailbox: Mailbox, run_worker: RunWorker
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    path = _unsubscribe_path(_invitations(mailbox, bob)[0])
    bodies: list[bytes] = [b"\xff\xfe", b"email=%ff", b"email=%00", b"&&&=", b"a=" * 50]
    for body in bodies:
        response = await committed_client.post(path, content=body, headers=FORM)
        assert response.status_code in (200, 422), (body, response.text)
    multipart = {"Content-Type": "multipart/form-data; boundary=x"}
    one_click = (
        b'--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--x--'
    )
    assert (await committed_client.post(path, content=one_click, headers=multipart)).is_success
    for token in ("é", "a" * 301, "unsubscribe.x:y.0.z", "unsubscribe..0."):
        response = await committed_client.get(f"/v1/email-preferences/{token}")
        assert response.status_code in (404, 422), (token, response.text)


def test_the_preference_endpoints_document_their_errors(api_app: Any) -> None:
    paths = api_app.openapi()["paths"]
    expected = {
        (PREFERENCES, "get"): {"401"},
        (PREFERENCES, "patch"): {"401", "422"},
        (PREFERENCES, "put"): {"401", "422"},
        ("/v1/email-preferences/{token}", "get"): {"200", "404", "422"},
        ("/v1/email-preferences/{token}", "post"): {"200", "404", "422"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= set(paths[path][method]["responses"]), (path, method)
    assert "401" not in paths["/v1/email-preferences/{token}"]["post"]["responses"]
    form = paths["/v1/email-preferences/{token}"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in form
