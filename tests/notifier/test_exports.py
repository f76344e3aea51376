"""A member's data export, built by the real worker and followed from the real email:
all of their own data, none of anyone else's private data, a signed link that expires."""

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.exports import DataExport
from services.notifier.exports.crons import sweep_exports
from tests.api.test_email_invitations import invite_by_email, new_address
from tests.conftest import SteppingClock
from tests.factories import SignedIn, connect, invitation_id, sign_in, sign_in_all
from tests.notifier.conftest import Mailbox, body_text
from tests.webhooks.receiver import Receiver

RunWorker = Callable[..., Awaitable[None]]
SUBJECT = "Your Rapport data export is ready"


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, scalar) pair in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)
    else:
        yield key, value


def _download_path(email: EmailMessage) -> str:
    found = re.search(r"(https?://\S+/v1/me/exports/\S+/download\?token=\S+)", body_text(email))
    assert found is not None, body_text(email)
    parts = urlsplit(found.group(1))
    return f"{parts.path}?{parts.query}"


async def _export_email(
    client: httpx.AsyncClient,
    me: SignedIn,
    run_worker: RunWorker,
    clock: SteppingClock,
    mailbox: Mailbox,
) -> tuple[str, str]:
    """Ask for an export, run the worker; the export's id and the emailed link's path."""
    asked = await client.post("/v1/me/export", headers=me.headers)
    assert asked.status_code == 202, asked.text
    export_id = asked.json()["export_id"]
    assert asked.headers["Location"] == f"/v1/me/exports/{export_id}"
    assert asked.json()["status"] == "pending"
    await run_worker(clock)
    emails = [m for m in mailbox.messages_to(me.email) if str(m["Subject"]) == SUBJECT]
    paths = [_download_path(m) for m in emails]
    [path] = [p for p in paths if f"/exports/{export_id}/" in p]
    return export_id, path


async def test_an_export_holds_all_of_my_data_and_none_of_anyone_elses_private_data(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    run_worker: RunWorker,
    clock: SteppingClock,
    receiver: Receiver,
) -> None:
    client = committed_client
    me = await sign_in(client, "Mia Exporter")
    bo, cy, dee, eve, fred = await sign_in_all(
        client, "Bo Other", "Cy Inviter", "Dee Invitee", "Eve Blocked", "Fred Blocker"
    )
    endpoint = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": receiver.url(), "event_types": ["invitation.received"]},
        headers=me.headers,
    )
    assert endpoint.status_code == 201, endpoint.text
    secret = endpoint.json()["secret"]
    await connect(client, me, bo, a_rates=7, b_rates=8)
    cy_invitation = await invitation_id(client, cy, me, note="CY-INVITE-NOTE", my_rating=2)
    await invitation_id(client, me, dee, note="MY-INVITE-NOTE", my_rating=9)
    # Delivered to my endpoint now: a delivery is scheduled on the worker's clock, which
    # would put it 90 days ahead once the clock moves.
    await run_worker(clock)
    for who, other, note, tags in (
        (me, bo, "MY-NOTE-7f3a", ["my-tag-4b2d"]),
        (bo, me, "THEIR-NOTE-9c1e", ["their-tag-5e8f"]),
    ):
        put = await client.put(
            f"/v1/connections/{other.member_id}/note",
            json={"note": note, "tags": tags},
            headers=who.headers,
        )
        assert put.status_code == 200, put.text
    for who, other, kind in ((me, bo, "coffee"), (bo, me, "call")):
        logged = await client.post(
            f"/v1/connections/{other.member_id}/interactions",
            json={"kind": kind, "occurred_at": clock.now.isoformat()},
            headers=who.headers,
        )
        assert logged.status_code == 201, logged.text
    clock.advance(days=90)  # old enough to recommend each other
    for who, other, body in ((me, bo, "MY-REC-1d2e"), (bo, me, "THEIR-REC-3f4a")):
        written = await client.post(
            f"/v1/members/{other.member_id}/recommendations",
            json={"body": body},
            headers=who.headers,
        )
        assert written.status_code == 201, written.text
    assert (await client.post(f"/v1/blocks/{eve.member_id}", headers=me.headers)).status_code == 204
    assert (
        await client.post(f"/v1/blocks/{me.member_id}", headers=fred.headers)
    ).status_code == 204
    typed = new_address()
    assert (await invite_by_email(client, me, typed)).status_code == 201
    await run_worker(clock)  # the notifications of the above

    export_id, path = await _export_email(client, me, run_worker, clock, mailbox)
    download = await client.get(path)  # no bearer token: the link alone

    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/json"
    day = clock.now.astimezone(UTC).date().isoformat()
    disposition = download.headers["content-disposition"]
    assert disposition == f'attachment; filename="rapport-export-{day}.json"'
    text = download.text
    archive = json.loads(text)
    assert archive["schema_version"] == 1
    assert archive["member_id"] == str(me.member_id)
    assert archive["profile"]["email"] == me.email
    assert archive["profile"]["name"] == "Mia Exporter"
    [connection] = archive["connections"]
    assert connection["member"] == {"member_id": str(bo.member_id), "name": "Bo Other"}
    assert connection["my_rating"] == 7
    assert [(n["note"], n["tags"]) for n in archive["notes"]] == [("MY-NOTE-7f3a", ["my-tag-4b2d"])]
    assert [i["kind"] for i in archive["interactions"]] == ["coffee"]
    sent = {i["invitee"]["member_id"]: i for i in archive["invitations"]["sent"]}
    assert set(sent) == {str(bo.member_id), str(dee.member_id)}
    assert sent[str(dee.member_id)]["my_rating"] == 9
    assert sent[str(dee.member_id)]["note"] == "MY-INVITE-NOTE"
    [received] = archive["invitations"]["received"]
    assert received["invitation_id"] == cy_invitation
    assert received["note"] == "CY-INVITE-NOTE"
    assert "my_rating" not in received
    ratings = {value for key, value in _walk(archive) if "rating" in key}
    assert ratings == {7, 9}  # mine: never Bo's 8 nor Cy's 2
    recommendations = archive["recommendations"]
    assert [r["body"] for r in recommendations["written"]] == ["MY-REC-1d2e"]
    assert [r["body"] for r in recommendations["received"]] == ["THEIR-REC-3f4a"]
    assert [b["member"]["member_id"] for b in archive["blocks"]] == [str(eve.member_id)]
    assert [e["email"] for e in archive["email_invitations"]] == [typed]
    [hook] = archive["webhook_endpoints"]
    assert hook["url"] == receiver.url()
    assert hook["deliveries"] and hook["deliveries"][0]["event_type"] == "invitation.received"
    assert not any("secret" in key for key, _ in _walk(archive))
    assert "invitation_received" in {n["kind"] for n in archive["notifications"]}
    assert archive["sign_ins"] and "device" in archive["sign_ins"][0]
    for theirs in ("THEIR-NOTE-9c1e", "their-tag-5e8f", secret, "Fred Blocker", "$argon2"):
        assert theirs not in text
    assert str(fred.member_id) not in text

    feed = await client.get("/v1/notifications", headers=me.headers)
    [ready] = [n for n in feed.json()["items"] if n["kind"] == "export_ready"]
    assert ready is not None
    shown = await client.get(f"/v1/me/exports/{export_id}", headers=me.headers)
    assert shown.json()["status"] == "ready"
    assert shown.json()["size_bytes"] == len(download.content)
    owner = await client.get(f"/v1/me/exports/{export_id}/download", headers=me.headers)
    assert owner.status_code == 200 and owner.json() == archive


async def test_the_link_expires_after_seven_days_and_the_sweep_deletes_the_archive(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    worker_ctx: dict[str, Any],
    mailbox: Mailbox,
    run_worker: RunWorker,
    clock: SteppingClock,
) -> None:
    me = await sign_in(committed_client, "Mia Exporter")
    export_id, path = await _export_email(committed_client, me, run_worker, clock, mailbox)
    clock.advance(days=7, seconds=-5)
    assert (await committed_client.get(path)).status_code == 200

    clock.advance(seconds=10)

    expired = await committed_client.get(path)
    assert expired.status_code == 410
    assert expired.json()["type"].endswith("/export-expired")
    shown = (await committed_client.get(f"/v1/me/exports/{export_id}", headers=me.headers)).json()
    assert shown["status"] == "expired" and shown["download_url"] is None
    worker_ctx["clock"] = clock
    assert await sweep_exports(worker_ctx) >= 1
    async with committed_db() as session:
        row = (await session.execute(select(DataExport.status, DataExport.archive))).one()
    assert row == ("expired", None)


async def test_a_wrong_or_altered_token_is_refused_and_others_exports_do_not_exist(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    run_worker: RunWorker,
    clock: SteppingClock,
) -> None:
    client = committed_client
    me, other = await sign_in_all(client, "Mia Exporter", "Oz Other")
    export_id, path = await _export_email(client, me, run_worker, clock, mailbox)
    other_id, other_path = await _export_email(client, other, run_worker, clock, mailbox)
    token = parse_qs(urlsplit(path).query)["token"][0]
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    base = f"/v1/me/exports/{export_id}/download"

    for query in ({"token": altered}, {"token": "not-a-token"}, {"token": ""}):
        refused = await client.get(base, params=query)
        assert refused.status_code == 403, query
        assert refused.json()["type"].endswith("/invalid-download-link")
    crossed = await client.get(f"/v1/me/exports/{other_id}/download", params={"token": token})
    assert crossed.status_code == 403
    assert (await client.get(base)).status_code == 401
    for url in (f"/v1/me/exports/{other_id}", f"/v1/me/exports/{other_id}/download"):
        hidden = await client.get(url, headers=me.headers)
        assert hidden.status_code == 404
        assert hidden.json()["detail"] == f"You have no export {other_id}."
    assert (await client.get("/v1/me/exports/not-a-uuid", headers=me.headers)).status_code == 422
    assert (await client.get(other_path)).status_code == 200


async def test_one_export_is_built_at_a_time_and_a_few_a_day_then_429(
    committed_client: httpx.AsyncClient,
    run_worker: RunWorker,
    clock: SteppingClock,
) -> None:
    me = await sign_in(committed_client, "Mia Exporter")
    first = await committed_client.post("/v1/me/export", headers=me.headers)
    again = await committed_client.post("/v1/me/export", headers=me.headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["export_id"] == first.json()["export_id"]
    pending = await committed_client.get(
        f"/v1/me/exports/{first.json()['export_id']}/download", headers=me.headers
    )
    assert pending.status_code == 409
    for _ in range(2):
        await run_worker(clock)
        clock.advance(hours=1)
        made = await committed_client.post("/v1/me/export", headers=me.headers)
        assert made.status_code == 202 and made.json()["export_id"] != first.json()["export_id"]
    await run_worker(clock)

    refused = await committed_client.post("/v1/me/export", headers=me.headers)

    assert refused.status_code == 429
    assert refused.json()["type"].endswith("/export-limit")
    assert int(refused.headers["Retry-After"]) == 22 * 3600 + 1
    clock.advance(hours=22, seconds=1)
    assert (await committed_client.post("/v1/me/export", headers=me.headers)).status_code == 202
