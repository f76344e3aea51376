"""Issue 13, the account flows that need no email: what registration answers, the
password rules, the gate on reaching out before the address is verified, the limits on
asking for account emails, changing the password, and the sessions list. The links in
the emails are followed in tests/notifier/test_account_emails.py."""

import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import ACCOUNT_EMAIL_EVENT_TYPES, EventEnvelope
from rapport_common.models.accounts import AccountToken
from rapport_common.outbox import OutboxEvent
from services.notifier.webhooks import routing
from tests.factories import PASSWORD, SignedIn, register, sign_in

NEW_PASSWORD = "a-much-longer-secret-42"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _tokens(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, agent: str = "test"
) -> dict[str, str]:
    response = await client.post(
        "/v1/auth/token",
        data={"username": email, "password": password},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def test_register_answers_with_the_member_and_a_pending_verification(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={"email": "New.Member@Example.com", "password": PASSWORD, "name": "New Member"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["member"] == {
        "member_id": body["member_id"],
        "email": "new.member@example.com",
        "name": "New Member",
    }
    assert body["email_verification"] == "pending"
    events = (await db_session.execute(select(OutboxEvent.type, OutboxEvent.payload))).all()
    [requested] = [p for t, p in events if t == "account.email_verification_requested"]
    assert set(requested) == {"account_token_id", "member_id"}  # ids only, no address


async def test_short_or_common_passwords_are_refused_with_a_clear_422(
    client: httpx.AsyncClient,
) -> None:
    for password, kind in (
        ("short-one", "too_short"),
        ("password123", "common_password"),
        ("QwertyUiop", "common_password"),  # whatever its case
    ):
        response = await client.post(
            "/v1/auth/register",
            json={"email": f"{uuid.uuid4().hex}@example.com", "password": password, "name": "X"},
        )
        assert response.status_code == 422, password
        [error] = response.json()["errors"]
        assert error["location"][-1] == "password" and error["kind"] == kind, error


async def test_an_unverified_member_may_read_but_not_reach_out(
    client: httpx.AsyncClient,
) -> None:
    me = await sign_in(client, "Una Verified", verified=False)
    other = await sign_in(client, "Other Member")
    assert (await client.get("/v1/me", headers=me.headers)).status_code == 200
    attempts: dict[str, tuple[str, dict[str, object]]] = {
        "invitation by id": ("/v1/invitations", {"to_member_id": str(other.member_id)}),
        "invitation by email": ("/v1/invitations", {"to_email": "someone@invited.example"}),
        "introduction": (
            "/v1/introductions",
            {"intermediary_id": str(other.member_id), "target_id": str(uuid.uuid4())},
        ),
        "recommendation": (
            f"/v1/members/{other.member_id}/recommendations",
            {"body": "Other is great."},
        ),
        "webhook endpoint": (
            "/v1/webhooks/endpoints",
            {"url": "https://crm.example/hooks", "event_types": ["connection.created"]},
        ),
    }
    for what, (path, body) in attempts.items():
        if path == "/v1/invitations":
            body = {**body, "note": "Hello!", "how_we_met": "coffee"}
        response = await client.post(path, json=body, headers=me.headers)
        assert response.status_code == 403, what
        problem = response.json()
        assert problem["type"].endswith("/email-unverified"), what
        assert me.email in problem["detail"] and "/v1/auth/email-verification" in problem["detail"]


async def test_resending_the_verification_email_is_limited_per_hour(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    me = await sign_in(client, "Una", verified=False)
    for _ in range(3):
        sent = await client.post("/v1/auth/email-verification", headers=me.headers)
        assert sent.status_code == 202, sent.text
    refused = await client.post("/v1/auth/email-verification", headers=me.headers)
    assert refused.status_code == 429
    assert refused.json()["type"].endswith("/account-emails-throttled")
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    count = select(func.count()).where(AccountToken.member_id == me.member_id)
    assert await db_session.scalar(count) == 4  # at registration, then three resends

    verified = await sign_in(client, "Vera")
    again = await client.post("/v1/auth/email-verification", headers=verified.headers)
    assert again.status_code == 409


async def test_a_reset_request_answers_the_same_whether_or_not_the_address_has_an_account(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    member = await sign_in(client, "Ada")
    unknown = f"{uuid.uuid4().hex[:12]}@example.com"
    answers = []
    for email in (member.email, unknown):
        response = await client.post("/v1/auth/password-reset", json={"email": email})
        answers.append((response.status_code, response.json()["detail"].replace(email, "X")))
    assert answers[0] == answers[1] and answers[0][0] == 202
    resets = select(AccountToken.member_id).where(AccountToken.purpose == "reset_password")
    assert (await db_session.execute(resets)).scalars().all() == [member.member_id]


async def test_reset_requests_are_limited_per_address_and_per_client(
    client: httpx.AsyncClient,
) -> None:
    unknown = f"{uuid.uuid4().hex[:12]}@example.com"
    answers = [
        (await client.post("/v1/auth/password-reset", json={"email": unknown})).status_code
        for _ in range(4)
    ]
    assert answers == [202, 202, 202, 429]  # counted even for an address of no account
    others = [
        (
            await client.post(
                "/v1/auth/password-reset", json={"email": f"{uuid.uuid4().hex}@example.com"}
            )
        ).status_code
        for _ in range(18)
    ]
    # 20 from one client per hour (the refused one above was not counted)
    assert others[:17] == [202] * 17 and others[17] == 429


async def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    client: httpx.AsyncClient,
) -> None:
    me = await sign_in(client, "Ada")
    here = await _tokens(client, me.email)
    elsewhere = await _tokens(client, me.email)
    body = {"current_password": "not-my-password", "new_password": NEW_PASSWORD}
    wrong = await client.post("/v1/auth/password", json=body, headers=_bearer(here["access_token"]))
    assert wrong.status_code == 403 and wrong.json()["type"].endswith("/wrong-password")
    common = {"current_password": PASSWORD, "new_password": "1234567890"}
    refused = await client.post(
        "/v1/auth/password", json=common, headers=_bearer(here["access_token"])
    )
    assert refused.status_code == 422

    body["current_password"] = PASSWORD
    changed = await client.post(
        "/v1/auth/password", json=body, headers=_bearer(here["access_token"])
    )
    assert changed.status_code == 204
    assert (await client.get("/v1/me", headers=_bearer(here["access_token"]))).status_code == 200
    ended = await client.get("/v1/me", headers=_bearer(elsewhere["access_token"]))
    assert ended.status_code == 401  # at once, not when the access token expires
    stale = await client.post(
        "/v1/auth/refresh", json={"refresh_token": elsewhere["refresh_token"]}
    )
    assert stale.status_code == 401
    kept = await client.post("/v1/auth/refresh", json={"refresh_token": here["refresh_token"]})
    assert kept.status_code == 200
    old = await client.post("/v1/auth/token", data={"username": me.email, "password": PASSWORD})
    assert old.status_code == 401
    await _tokens(client, me.email, NEW_PASSWORD)


async def _sessions(client: httpx.AsyncClient, access_token: str) -> list[dict[str, object]]:
    response = await client.get("/v1/auth/sessions", headers=_bearer(access_token))
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_the_sessions_list_shows_each_sign_in_with_its_device_and_marks_mine(
    client: httpx.AsyncClient,
) -> None:
    me: SignedIn = await sign_in(client, "Ada")
    phone = await _tokens(client, me.email, agent="Rapport/2.1 (iPhone;\tiOS 18)\x7f" + "x" * 300)
    laptop = await _tokens(client, me.email, agent="Mozilla/5.0 (X11; Linux)")
    await client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})

    listed = await _sessions(client, laptop["access_token"])
    assert len(listed) == 3  # the factory's sign-in, the phone, the laptop
    by_device = {str(item["device"])[:12]: item for item in listed}
    phone_session = by_device["Rapport/2.1 "]
    assert str(phone_session["device"]).startswith("Rapport/2.1 (iPhone; iOS 18)")
    assert len(str(phone_session["device"])) == 200
    assert phone_session["last_used_at"] >= phone_session["created_at"]  # type: ignore[operator]
    assert [item["current"] for item in listed].count(True) == 1
    assert by_device["Mozilla/5.0 "]["current"] is True
    assert listed[0] is phone_session  # refreshed last


async def test_ending_a_session_ends_its_tokens_at_once(client: httpx.AsyncClient) -> None:
    me = await sign_in(client, "Ada")
    phone = await _tokens(client, me.email, agent="phone")
    laptop = await _tokens(client, me.email, agent="laptop")
    [phone_session] = [
        s for s in await _sessions(client, laptop["access_token"]) if s["device"] == "phone"
    ]
    unknown = await client.delete(
        f"/v1/auth/sessions/{uuid.uuid4()}", headers=_bearer(laptop["access_token"])
    )
    assert unknown.status_code == 404
    ended = await client.delete(
        f"/v1/auth/sessions/{phone_session['session_id']}", headers=_bearer(laptop["access_token"])
    )
    assert ended.status_code == 204
    assert (await client.get("/v1/me", headers=_bearer(phone["access_token"]))).status_code == 401
    refreshed = await client.post(
        "/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}
    )
    assert refreshed.status_code == 401
    devices = [s["device"] for s in await _sessions(client, laptop["access_token"])]
    assert "phone" not in devices and "laptop" in devices


async def test_ending_all_other_sessions_keeps_mine_and_all_ends_mine_too(
    client: httpx.AsyncClient,
) -> None:
    me = await sign_in(client, "Ada")
    first = await _tokens(client, me.email, agent="first")
    second = await _tokens(client, me.email, agent="second")
    others = await client.delete("/v1/auth/sessions", headers=_bearer(second["access_token"]))
    assert others.status_code == 204
    assert [s["device"] for s in await _sessions(client, second["access_token"])] == ["second"]
    assert (await client.get("/v1/me", headers=_bearer(first["access_token"]))).status_code == 401
    assert (await client.get("/v1/me", headers=me.headers)).status_code == 401

    everything = await client.delete(
        "/v1/auth/sessions", params={"which": "all"}, headers=_bearer(second["access_token"])
    )
    assert everything.status_code == 204
    assert (await client.get("/v1/me", headers=_bearer(second["access_token"]))).status_code == 401
    bad = await client.delete(
        "/v1/auth/sessions", params={"which": "some"}, headers=_bearer(first["access_token"])
    )
    assert bad.status_code == 401  # that sign-in ended; the parameter is checked after


async def test_an_email_change_needs_the_password_and_a_free_address(
    client: httpx.AsyncClient,
) -> None:
    me = await sign_in(client, "Ada")
    bob_email = f"{uuid.uuid4().hex[:12]}@example.com"
    await register(client, "Bob", email=bob_email)
    wrong = await client.post(
        "/v1/auth/email",
        json={"password": "not-my-password", "new_email": "new@example.com"},
        headers=me.headers,
    )
    assert wrong.status_code == 403
    for address in (me.email, bob_email.upper()):
        refused = await client.post(
            "/v1/auth/email", json={"password": PASSWORD, "new_email": address}, headers=me.headers
        )
        assert refused.status_code == 409 and refused.json()["type"].endswith("/email-taken")
    asked = await client.post(
        "/v1/auth/email",
        json={"password": PASSWORD, "new_email": "Brand.New@Example.com"},
        headers=me.headers,
    )
    assert asked.status_code == 202 and "brand.new@example.com" in asked.json()["detail"]


async def test_the_link_pages_and_endpoints_refuse_hostile_input_without_a_500(
    client: httpx.AsyncClient,
) -> None:
    for token in ("\x00", "x" * 201, "<script>alert(1)</script>", ""):
        page = await client.get("/account/verify-email", params={"token": token})
        assert page.status_code in (404, 422), token
        assert "<script>" not in page.text
    weak = await client.post(
        "/account/reset-password", data={"token": "x" * 43, "new_password": "a\x00" * 8}
    )
    assert weak.status_code == 422 and 'type="password"' in weak.text
    unknown = await client.post(
        "/account/reset-password", data={"token": "x" * 43, "new_password": NEW_PASSWORD}
    )
    assert unknown.status_code == 404 and "not valid" in unknown.text
    for body in ({"token": "not a token!"}, {"token": "x" * 43, "extra": 1}, {}):
        refused = await client.post("/v1/auth/email-verification/confirm", json=body)
        assert refused.status_code == 422, body


def test_no_account_event_becomes_a_partner_webhook() -> None:
    for event_type in ACCOUNT_EMAIL_EVENT_TYPES:
        envelope = EventEnvelope(
            event_id=uuid.uuid4(),
            sequence=1,
            type=event_type,
            version=1,
            occurred_at=datetime(2026, 12, 3, tzinfo=UTC),
            payload={"account_token_id": str(uuid.uuid4()), "member_id": str(uuid.uuid4())},
        )
        assert routing.route(envelope) == []
