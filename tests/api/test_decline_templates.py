"""Decline note templates: bare placeholders only, rendered safely and capped like a note."""

from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.policies import LinkingPolicy
from services.api.policies.presets import POLITE_DECLINE
from services.api.policies.templates import render
from services.api.schemas import NOTE_MAX_LENGTH
from tests.factories import SignedIn, invite, sign_in, sign_in_all


def declining(template: str, automatic: bool = True) -> dict[str, Any]:
    return {
        "rules": [],
        "otherwise": {"type": "decline", "note_template": template},
        "otherwise_automatic": automatic,
    }


async def put_policy(client: httpx.AsyncClient, member: SignedIn, policy: dict[str, Any]) -> None:
    response = await client.put(
        "/v1/me/policy", json=policy, headers={**member.headers, "If-Match": '"0"'}
    )
    assert response.status_code == 200, response.text


async def store_behind_the_api(
    db_session: AsyncSession, member: SignedIn, policy: dict[str, Any]
) -> None:
    """A policy as an older release may have stored it, before today's rules."""
    await db_session.execute(
        update(LinkingPolicy)
        .where(LinkingPolicy.member_id == member.member_id)
        .values(document=policy)
    )


@pytest.mark.parametrize(
    "template",
    [
        "Hi {inviter_first_name:d}",
        "Hi {inviter_first_name:>1000000000}",
        "Hi {inviter_first_name!r}",
        "Hi {inviter_first_name.upper}",
        "Hi {inviter_first_name[0]}",
        "Hi {inviter_first_name:{my_first_name}}",
        "Hi {}",
        "Hi {0}",
        "Hi {inviter_first_name",
        "Hi }",
    ],
)
async def test_a_template_with_more_than_bare_placeholders_is_refused(
    client: httpx.AsyncClient, template: str
) -> None:
    me = await sign_in(client)
    response = await client.put(
        "/v1/me/policy", json=declining(template), headers={**me.headers, "If-Match": '"0"'}
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["location"][-1] == "note_template"
    assert "{inviter_first_name}" in error["message"]


async def test_a_template_with_bare_placeholders_and_escaped_braces_renders_them(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await sign_in_all(client, "Ada Lovelace", "Bob Kahn")
    await put_policy(client, bob, declining("{{Hi}} {inviter_first_name}, {my_first_name}"))
    invitation = (await invite(client, ada, bob)).json()["invitation_id"]
    view = (await client.get(f"/v1/invitations/{invitation}", headers=ada.headers)).json()
    assert (view["status"], view["decline_note"]) == ("declined", "{Hi} Ada, Bob")


async def test_a_rendered_note_is_capped_like_a_written_one(client: httpx.AsyncClient) -> None:
    ada = await sign_in(client, "A" * 120)
    bob = await sign_in(client, "Bob")
    await put_policy(client, bob, declining("{inviter_first_name}" * 50))
    invitation = (await invite(client, ada, bob)).json()["invitation_id"]
    note = (await client.get(f"/v1/invitations/{invitation}", headers=ada.headers)).json()[
        "decline_note"
    ]
    assert len(note) == NOTE_MAX_LENGTH
    assert note.endswith("…")


async def test_a_stored_template_with_a_format_spec_falls_back_to_the_polite_note(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in_all(client, "Ada Lovelace", "Bob Kahn")
    await put_policy(client, bob, declining("Hi {inviter_first_name}"))
    await store_behind_the_api(db_session, bob, declining("Hi {inviter_first_name:d}"))

    sent = await invite(client, ada, bob)

    assert sent.status_code == 201, sent.text
    invitation = sent.json()["invitation_id"]
    view = (await client.get(f"/v1/invitations/{invitation}", headers=ada.headers)).json()
    assert view["status"] == "declined"
    assert view["decline_note"] == POLITE_DECLINE.format(
        inviter_first_name="Ada", my_first_name="Bob"
    )


async def test_a_member_with_a_stored_bad_template_still_reads_and_decides(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in_all(client, "Ada Lovelace", "Bob Kahn")
    bad = declining("Hi {inviter_first_name:>1000000000}", automatic=False)
    bad["rules"] = [
        {
            "name": "Legacy\r\nname",
            "when": {"how_we_met_in": ["coffee"]},
            "then": {"type": "later", "days": 3},
        }
    ]
    await put_policy(client, bob, declining("Hi {inviter_first_name}", automatic=False))
    await store_behind_the_api(db_session, bob, bad)

    invitation = (await invite(client, ada, bob, how_we_met="event")).json()["invitation_id"]
    policy = await client.get("/v1/me/policy", headers=bob.headers)
    view = await client.get(f"/v1/invitations/{invitation}", headers=bob.headers)
    declined = await client.post(f"/v1/invitations/{invitation}/decline", headers=bob.headers)

    assert policy.status_code == 200, policy.text
    assert policy.json()["otherwise"]["note_template"] == bad["otherwise"]["note_template"]
    assert view.status_code == 200, view.text
    assert view.json()["suggestion"]["action"]["type"] == "decline"
    assert declined.status_code == 200, declined.text
    assert declined.json()["decline_note"].startswith("Hi Ada, thank you for the invitation.")


def test_render_never_formats_what_it_refuses() -> None:
    values = {"inviter_first_name": "Ada", "my_first_name": "Bob"}
    rendered = render(
        "{inviter_first_name:>1000000000}", values, 1000, fallback="Hi {my_first_name}"
    )
    assert rendered == "Hi Bob"
