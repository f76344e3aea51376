"""Hostile text: NUL, line breaks and control characters in every public input.

One-line fields refuse them all; fields of several lines keep tab, LF and CR (and the
Unicode line and paragraph separators) and refuse the rest. Each refusal is a 422 problem
naming the field and saying what was wrong, and nothing is stored.
"""

import json
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.members import Member
from tests.factories import PASSWORD, SignedIn, connect, invitation_id, sign_in, sign_in_all

LINE_BREAKS = {
    "CR": "\r",
    "LF": "\n",
    "LINE SEPARATOR": "\u2028",
    "PARAGRAPH SEPARATOR": "\u2029",
    "NEL": "\x85",
    "VT": "\x0b",
}
OTHER_CONTROLS = {"TAB": "\t", "ESC": "\x1b", "RIGHT-TO-LEFT OVERRIDE": "\u202e"}
ONE_LINE_REFUSED = {"NUL": "\x00", **LINE_BREAKS, **OTHER_CONTROLS, "lone surrogate": "\ud800"}
SEVERAL_LINES_REFUSED = {
    "NUL": "\x00",
    "NEL": "\x85",
    "VT": "\x0b",
    "ESC": "\x1b",
    "RIGHT-TO-LEFT OVERRIDE": "\u202e",
    "lone surrogate": "\ud800",
}
SEVERAL_LINES_KEPT = "Line one\r\nline two\twith a tab\u2028and a separator\u2029end"
# What the problem says for each refused character, on one line and on several.
ONE_LINE_COMPLAINT = {
    "NUL": "nul",
    **dict.fromkeys(LINE_BREAKS, "one line"),
    **dict.fromkeys(OTHER_CONTROLS, "control character"),
    # Pydantic itself refuses some before our rule sees them, in words of its own.
    "lone surrogate": "unicode",
}
SEVERAL_LINES_COMPLAINT = {**ONE_LINE_COMPLAINT, "NEL": "control character", "VT": "control"}


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """JSON as a client may write it: every non-ASCII character escaped, lone surrogates too."""
    return await client.request(
        method,
        url,
        content=json.dumps(body),
        headers={**(headers or {}), "content-type": "application/json"},
    )


def assert_refused(response: httpx.Response, field: str, label: str, complaint: str) -> None:
    assert response.status_code == 422, (label, response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/validation-error")
    named = [e for e in problem["errors"] if e["location"][-1] == field]
    assert named, (label, problem["errors"])
    assert complaint in named[0]["message"].lower(), (label, named[0]["message"])
    assert field in problem["detail"]


async def refuses_on_one_line(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body_with: Any,
    field: str,
    headers: dict[str, str] | None = None,
) -> None:
    for label, char in ONE_LINE_REFUSED.items():
        response = await send(client, method, url, body_with(f"Ada{char}Lovelace"), headers)
        assert_refused(response, field, label, ONE_LINE_COMPLAINT[label])


async def refuses_on_several_lines(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body_with: Any,
    field: str,
    headers: dict[str, str] | None = None,
) -> None:
    for label, char in SEVERAL_LINES_REFUSED.items():
        response = await send(client, method, url, body_with(f"Hello{char}there"), headers)
        assert_refused(response, field, label, SEVERAL_LINES_COMPLAINT[label])


def registration(**fields: str) -> dict[str, str]:
    return {"email": "hostile@example.com", "password": PASSWORD, "name": "Ada", **fields}


async def test_register_refuses_hostile_characters_in_one_line_fields_and_stores_nothing(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    for field in ("name", "headline", "market_area"):
        await refuses_on_one_line(
            client, "POST", "/v1/auth/register", lambda v, f=field: registration(**{f: v}), field
        )
    stored = await db_session.scalar(
        select(func.count()).select_from(Member).where(Member.email == "hostile@example.com")
    )
    assert stored == 0


async def test_register_refuses_an_email_with_a_nul_or_a_line_break(
    client: httpx.AsyncClient,
) -> None:
    for label, char in {"NUL": "\x00", **LINE_BREAKS}.items():
        response = await send(
            client, "POST", "/v1/auth/register", registration(email=f"ada{char}@example.com")
        )
        assert response.status_code == 422, (label, response.text)
        assert response.json()["errors"][0]["location"] == ["body", "email"]


async def test_register_refuses_a_password_with_nul_but_keeps_other_characters(
    client: httpx.AsyncClient,
) -> None:
    for label, char in {"NUL": "\x00", "lone surrogate": "\ud800"}.items():
        body = registration(password=f"correct{char}horse-battery")
        response = await send(client, "POST", "/v1/auth/register", body)
        assert_refused(response, "password", label, ONE_LINE_COMPLAINT[label])
    body = registration(password="correct\thorse\u2028battery\x1b")
    assert (await send(client, "POST", "/v1/auth/register", body)).status_code == 201


async def test_sign_in_form_refuses_nul_and_line_breaks(client: httpx.AsyncClient) -> None:
    for label, char in {"NUL": "\x00", **LINE_BREAKS}.items():
        for field, value in (("username", f"ada{char}@example.com"), ("scope", f"a{char}b")):
            form = {"username": "ada@example.com", "password": PASSWORD, field: value}
            response = await client.post("/v1/auth/token", data=form)
            assert_refused(response, field, label, ONE_LINE_COMPLAINT[label])
    form = {"username": "ada@example.com", "password": "correct\x00horse-battery"}
    response = await client.post("/v1/auth/token", data=form)
    assert_refused(response, "password", "NUL", "nul")


async def test_refresh_and_logout_refuse_hostile_tokens(client: httpx.AsyncClient) -> None:
    for url in ("/v1/auth/refresh", "/v1/auth/logout"):
        await refuses_on_one_line(
            client, "POST", url, lambda v: {"refresh_token": f"token-{v}"}, "refresh_token"
        )


async def test_profile_update_refuses_hostile_one_line_fields_and_keeps_the_profile(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client, "Ada Lovelace", headline="Analyst")
    for field in ("name", "headline", "market_area"):
        await refuses_on_one_line(
            client, "PATCH", "/v1/me", lambda v, f=field: {f: v}, field, ada.headers
        )
    me = (await client.get("/v1/me", headers=ada.headers)).json()
    assert (me["name"], me["headline"], me["market_area"]) == ("Ada Lovelace", "Analyst", None)


async def test_nudge_settings_refuse_a_hostile_time_zone(client: httpx.AsyncClient) -> None:
    ada = await sign_in(client)
    await refuses_on_one_line(
        client, "PUT", "/v1/me/nudges", lambda v: {"time_zone": v}, "time_zone", ada.headers
    )


async def test_webhook_endpoints_refuse_hostile_urls_and_descriptions(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client)

    def endpoint(**fields: str) -> dict[str, Any]:
        return {"url": "http://127.0.0.1:9/hook", "event_types": ["invitation.received"]} | fields

    for field in ("url", "description"):
        await refuses_on_one_line(
            client,
            "POST",
            "/v1/webhooks/endpoints",
            lambda v, f=field: endpoint(**{f: v}),
            field,
            ada.headers,
        )
    listed = await client.get("/v1/webhooks/endpoints", headers=ada.headers)
    assert listed.json()["items"] == []


async def test_policy_refuses_hostile_rule_names_templates_and_questions(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client)
    put = {"If-Match": '"0"', **ada.headers}

    def with_rule(name: str = "Met", then: dict[str, Any] | None = None) -> dict[str, Any]:
        rule = {"name": name, "then": then or {"type": "accept"}}
        return {"rules": [rule], "otherwise": {"type": "accept"}}

    await refuses_on_one_line(client, "PUT", "/v1/me/policy", with_rule, "name", put)
    await refuses_on_several_lines(
        client,
        "PUT",
        "/v1/me/policy",
        lambda v: with_rule(then={"type": "decline", "note_template": v}),
        "note_template",
        put,
    )
    await refuses_on_several_lines(
        client,
        "PUT",
        "/v1/me/policy",
        lambda v: with_rule(then={"type": "ask", "question": v}),
        "question",
        put,
    )
    assert (await client.get("/v1/me/policy", headers=ada.headers)).json()["version"] == 0
    kept = with_rule(then={"type": "decline", "note_template": SEVERAL_LINES_KEPT})
    stored = await send(client, "PUT", "/v1/me/policy", kept, put)
    assert stored.status_code == 200, stored.text
    assert stored.json()["rules"][0]["then"]["note_template"] == SEVERAL_LINES_KEPT


async def test_invitation_notes_refuse_nul_and_controls_but_keep_lines(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")

    def invitation(note: str) -> dict[str, str]:
        return {"to_member_id": str(bob.member_id), "note": note, "how_we_met": "coffee"}

    await refuses_on_several_lines(
        client, "POST", "/v1/invitations", invitation, "note", ada.headers
    )
    sent = await client.get("/v1/invitations", params={"box": "sent"}, headers=ada.headers)
    assert sent.json()["items"] == []
    created = await send(
        client, "POST", "/v1/invitations", invitation(SEVERAL_LINES_KEPT), ada.headers
    )
    assert created.status_code == 201, created.text
    view = await client.get(
        f"/v1/invitations/{created.json()['invitation_id']}", headers=bob.headers
    )
    assert view.json()["note"] == SEVERAL_LINES_KEPT


async def test_questions_answers_and_decline_notes_refuse_nul_and_controls(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    invitation = await invitation_id(client, ada, bob, how_we_met="never_met")
    base = f"/v1/invitations/{invitation}"
    await refuses_on_several_lines(
        client, "POST", f"{base}/decline", lambda v: {"note": v}, "note", bob.headers
    )
    await refuses_on_several_lines(
        client, "POST", f"{base}/ask", lambda v: {"question": v}, "question", bob.headers
    )
    asked = await send(client, "POST", f"{base}/ask", {"question": SEVERAL_LINES_KEPT}, bob.headers)
    assert asked.status_code == 200, asked.text
    await refuses_on_several_lines(
        client, "POST", f"{base}/answer", lambda v: {"answer": v}, "answer", ada.headers
    )
    view = (await client.get(base, headers=ada.headers)).json()
    assert (view["status"], view["question"], view["answer"]) == (
        "awaiting_answer",
        SEVERAL_LINES_KEPT,
        None,
    )


async def _introduction_network(client: httpx.AsyncClient) -> tuple[SignedIn, SignedIn, SignedIn]:
    me, friend, target = await sign_in_all(client, "Me", "Friend", "Target")
    await connect(client, me, friend)
    await connect(client, friend, target)
    return me, friend, target


async def test_introduction_notes_refuse_nul_and_controls(client: httpx.AsyncClient) -> None:
    me, friend, target = await _introduction_network(client)

    def request(note: str) -> dict[str, str]:
        return {
            "intermediary_id": str(friend.member_id),
            "target_id": str(target.member_id),
            "note": note,
        }

    await refuses_on_several_lines(client, "POST", "/v1/introductions", request, "note", me.headers)
    listed = await client.get("/v1/introductions", headers=me.headers)
    assert listed.json()["items"] == []
    asked = await send(client, "POST", "/v1/introductions", request(SEVERAL_LINES_KEPT), me.headers)
    assert asked.status_code == 201, asked.text
    forward = f"/v1/introductions/{asked.json()['introduction_id']}/forward"
    await refuses_on_several_lines(
        client, "POST", forward, lambda v: {"note": v}, "note", friend.headers
    )


async def test_an_idempotency_key_with_nul_or_a_line_break_is_refused_and_nothing_is_sent(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    invitation = {"to_member_id": str(bob.member_id), "how_we_met": "coffee"}

    for name in ("NUL", "LF"):
        key = f"key{ONE_LINE_REFUSED[name]}1"
        # The in-process transport hands the raw bytes on, as a lenient proxy might.
        headers = [(k.encode(), v.encode()) for k, v in ada.headers.items()]
        headers.append((b"Idempotency-Key", key.encode("latin-1")))
        response = await client.post("/v1/invitations", json=invitation, headers=headers)

        assert response.status_code == 422, (name, response.text)
        assert "idempotency-key" in response.text.lower()
    sent = await client.get("/v1/invitations", params={"box": "sent"}, headers=ada.headers)
    assert sent.json()["items"] == []
