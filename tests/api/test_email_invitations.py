"""Invitations by email address: the member's invitation hidden from the sender until
accepted, the join link, registration finding the invitation waiting, the limits and
the stop link. The emails themselves: tests/notifier/test_join_emails.py."""

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.domain import email_links
from rapport_common.models.email_invitations import DoNotContact, EmailInvitation
from rapport_common.models.invitations import Invitation
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from tests.conftest import SteppingClock
from tests.factories import PASSWORD, SignedIn, invite, sign_in


def new_address() -> str:
    return f"{uuid.uuid4().hex[:12]}@invited.example"


async def invite_by_email(
    client: httpx.AsyncClient, sender: SignedIn, address: str, **fields: object
) -> httpx.Response:
    body = {"to_email": address, "note": "Let's keep in touch!", "how_we_met": "coffee", **fields}
    return await client.post("/v1/invitations", json=body, headers=sender.headers)


def join_token(settings: Settings, email_invitation_id: str, expires: object) -> str:
    key = settings.email_invitations.link_key.get_secret_value()
    return email_links.sign(key, "join", email_invitation_id, expires)  # type: ignore[arg-type]


async def register_with_token(client: httpx.AsyncClient, address: str, token: str) -> SignedIn:
    registered = await client.post(
        "/v1/auth/register",
        params={"join_token": token},
        json={"email": address, "password": PASSWORD, "name": "Dana"},
    )
    assert registered.status_code == 201, registered.text
    signed = await client.post("/v1/auth/token", data={"username": address, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    return SignedIn(uuid.UUID(registered.json()["member_id"]), address, headers)


async def _row(db_session: AsyncSession, email_invitation_id: str) -> EmailInvitation:
    row = await db_session.get(EmailInvitation, uuid.UUID(email_invitation_id))
    assert row is not None
    return row


async def test_a_findable_member_gets_an_ordinary_invitation_and_accepting_connects(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invite_by_email(client, ada, bob.email.upper())
    assert sent.status_code == 201
    assert sent.json()["status"] == "sent"
    [received] = (await client.get("/v1/invitations", headers=bob.headers)).json()["items"]
    assert received["inviter"]["member_id"] == str(ada.member_id)
    assert received["note"] == "Let's keep in touch!"
    assert received["suggestion"] is not None
    accepted = await client.post(
        f"/v1/invitations/{received['invitation_id']}/accept",
        json={"rating": 8},
        headers=bob.headers,
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    # Accepting reveals it: now it is the sender's like any other.
    mine = (await client.get("/v1/invitations?box=sent", headers=ada.headers)).json()["items"]
    assert [i["invitation_id"] for i in mine] == [received["invitation_id"]]
    by_email = (await client.get("/v1/invitations/by-email", headers=ada.headers)).json()
    assert [i["status"] for i in by_email["items"]] == ["accepted"]
    assert by_email["items"][0]["email"] == bob.email.lower()
    connections = (await client.get("/v1/connections", headers=ada.headers)).json()["items"]
    assert [c["member_id"] for c in connections] == [str(bob.member_id)]


async def test_until_accepted_the_invitation_does_not_exist_for_its_sender(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    await invite_by_email(client, ada, bob.email)
    [received] = (await client.get("/v1/invitations", headers=bob.headers)).json()["items"]
    hidden = await client.get(f"/v1/invitations/{received['invitation_id']}", headers=ada.headers)
    ghost = await client.get(f"/v1/invitations/{uuid.uuid4()}", headers=ada.headers)
    assert hidden.status_code == ghost.status_code == 404
    assert (await client.get("/v1/invitations?box=sent", headers=ada.headers)).json()["items"] == []
    asked = await client.post(
        f"/v1/invitations/{received['invitation_id']}/ask",
        json={"question": "Who are you?"},
        headers=bob.headers,
    )
    assert asked.status_code == 409
    assert asked.json()["type"].endswith("/invitation-by-email")
    declined = await client.post(
        f"/v1/invitations/{received['invitation_id']}/decline", headers=bob.headers
    )
    assert declined.status_code == 200 and declined.json()["decline_note"] is None
    events = (await db_session.execute(select(OutboxEvent.type))).scalars().all()
    assert "invitation.declined_quietly" in events and "invitation.declined" not in events


async def test_the_invitees_automatic_actions_are_not_carried_out(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    policy = {
        "rules": [],
        "otherwise": {"type": "decline", "note_template": "No, thank you."},
        "otherwise_automatic": True,
    }
    put = await client.put("/v1/me/policy", json=policy, headers={**bob.headers, "If-Match": '"0"'})
    assert put.status_code == 200, put.text
    await invite_by_email(client, ada, bob.email, how_we_met="never_met")
    [received] = (await client.get("/v1/invitations", headers=bob.headers)).json()["items"]
    assert received["status"] == "pending"
    assert received["suggestion"]["action"]["type"] == "decline"


async def test_inviting_by_id_closes_my_invitation_by_email_quietly_and_goes_ahead(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    await invite_by_email(client, ada, bob.email)
    response = await invite(client, ada, bob)
    assert response.status_code == 201, response.text
    received = (await client.get("/v1/invitations", headers=bob.headers)).json()["items"]
    assert [i["invitation_id"] for i in received] == [response.json()["invitation_id"]]
    card = (await client.get(f"/v1/members/{bob.member_id}/card", headers=ada.headers)).json()
    assert card["invitation"]["state"] == "sent"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"to_member_id": str(uuid.uuid4())}, "both"),
        ({"to_email": None}, "neither"),
        ({"referred_by_member_id": str(uuid.uuid4())}, "referral"),
        ({"my_rating": 8}, "rating"),
        ({"to_email": "not an address"}, "address"),
    ],
    ids=["both", "neither", "referral", "rating", "address"],
)
async def test_an_invitation_by_email_names_one_address_and_nothing_it_cannot_check(
    client: httpx.AsyncClient, fields: dict[str, object], why: str
) -> None:
    ada = await sign_in(client, "Ada")
    response = await invite_by_email(client, ada, new_address(), **fields)
    assert response.status_code == 422, why
    assert response.json()["type"].endswith("/validation-error")


async def test_inviting_my_own_address_is_refused(client: httpx.AsyncClient) -> None:
    ada = await sign_in(client, "Ada")
    response = await invite_by_email(client, ada, ada.email.upper())
    assert response.status_code == 422
    assert response.json()["type"].endswith("/cannot-invite")


async def test_registering_with_the_address_finds_the_invitation_waiting_under_the_new_policy(
    client: httpx.AsyncClient, settings: Settings, db_session: AsyncSession
) -> None:
    ada, carol = await sign_in(client, "Ada Lovelace"), await sign_in(client, "Carol")
    address = new_address()
    first = (await invite_by_email(client, ada, address, note="First try")).json()
    latest = (await invite_by_email(client, ada, address, note="Second try")).json()
    from_carol = (await invite_by_email(client, carol, address, how_we_met="never_met")).json()
    row = await _row(db_session, latest["email_invitation_id"])
    token = join_token(settings, latest["email_invitation_id"], row.expires_at)

    shown = await client.get(f"/v1/join/{token}")
    assert shown.status_code == 200
    assert shown.json()["inviter"]["name"] == "Ada Lovelace"
    assert shown.json()["note"] == "Second try"

    dana = await register_with_token(client, address, token)
    received = (await client.get("/v1/invitations", headers=dana.headers)).json()["items"]
    by_inviter = {i["inviter"]["name"]: i for i in received}
    assert set(by_inviter) == {"Ada Lovelace", "Carol"}  # the latest from each inviter
    assert by_inviter["Ada Lovelace"]["note"] == "Second try"
    # The new member's policy (the default preset) suggests; it acts on nothing by itself.
    assert by_inviter["Carol"]["suggestion"]["action"]["type"] == "decline"
    assert by_inviter["Carol"]["status"] == "pending"
    assert (await client.get("/v1/invitations?box=sent", headers=ada.headers)).json()["items"] == []
    used = await client.get(f"/v1/join/{token}")
    assert used.status_code == 409 and used.json()["type"].endswith("/join-link-used")
    for sent in (first, from_carol):
        assert (await _row(db_session, sent["email_invitation_id"])).redeemed_at is not None


async def test_a_join_token_for_another_address_is_refused_at_registration(
    client: httpx.AsyncClient, settings: Settings, db_session: AsyncSession
) -> None:
    ada = await sign_in(client, "Ada")
    sent = (await invite_by_email(client, ada, new_address())).json()
    row = await _row(db_session, sent["email_invitation_id"])
    token = join_token(settings, sent["email_invitation_id"], row.expires_at)
    response = await client.post(
        f"/v1/auth/register?join_token={token}",
        json={"email": new_address(), "password": PASSWORD, "name": "Eve"},
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/join-token-mismatch")


async def test_a_join_link_expires_and_an_altered_one_is_not_ours(
    client: httpx.AsyncClient, settings: Settings, db_session: AsyncSession, clock: SteppingClock
) -> None:
    ada = await sign_in(client, "Ada")
    sent = (await invite_by_email(client, ada, new_address())).json()
    row = await _row(db_session, sent["email_invitation_id"])
    assert row.expires_at == clock() + timedelta(days=settings.email_invitations.link_days)
    token = join_token(settings, sent["email_invitation_id"], row.expires_at)
    altered = await client.get(f"/v1/join/{token[:-3]}AAA")
    assert altered.status_code == 404
    assert altered.json()["type"].endswith("/join-link-invalid")
    clock.advance(days=settings.email_invitations.link_days)
    expired = await client.get(f"/v1/join/{token}")
    assert expired.status_code == 410
    assert expired.json()["type"].endswith("/join-link-expired")


async def test_email_invitations_count_in_the_senders_limits(
    client: httpx.AsyncClient, api_app: FastAPI, settings: Settings, clock: SteppingClock
) -> None:
    limits = settings.invitations.model_copy(update={"weekly_limit": 3, "pending_cap": 100})
    api_app.state.settings = settings.model_copy(update={"invitations": limits})
    ada, bob, carol = [await sign_in(client, name) for name in ("Ada", "Bob", "Carol")]
    first = await invite_by_email(client, ada, bob.email)  # a member's address
    assert first.headers["ratelimit"].startswith('"weekly";r=2;')
    clock.advance(hours=1)
    second = await invite_by_email(client, ada, new_address())  # no member's
    assert second.headers["ratelimit"].startswith('"weekly";r=1;')
    clock.advance(hours=1)
    assert (await invite(client, ada, carol)).headers["ratelimit"].startswith('"weekly";r=0;')
    over = await invite_by_email(client, ada, new_address())
    assert over.status_code == 429
    retry = int(over.headers["retry-after"])
    assert 7 * 86400 - 2 * 3600 < retry <= 7 * 86400 - 2 * 3600 + 2


async def test_open_email_invitations_count_against_the_pending_cap(
    client: httpx.AsyncClient, api_app: FastAPI, settings: Settings, clock: SteppingClock
) -> None:
    limits = settings.invitations.model_copy(update={"weekly_limit": 100, "pending_cap": 2})
    api_app.state.settings = settings.model_copy(update={"invitations": limits})
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    assert (await invite_by_email(client, ada, bob.email)).status_code == 201
    assert (await invite_by_email(client, ada, new_address())).status_code == 201
    assert (await invite_by_email(client, ada, new_address())).status_code == 429
    # Open until it expires, whoever the address belongs to.
    clock.advance(days=settings.email_invitations.link_days)
    assert (await invite_by_email(client, ada, new_address())).status_code == 201


async def test_the_stop_link_adds_the_hash_and_no_address_is_stored_in_the_list(
    client: httpx.AsyncClient, settings: Settings, db_session: AsyncSession
) -> None:
    address = new_address()
    hashed = email_links.address_hash(
        settings.email_invitations.address_key.get_secret_value(), address
    )
    key = settings.email_invitations.link_key.get_secret_value()
    token = email_links.sign(key, "stop", hashed, None)
    for _ in range(2):  # a second click changes nothing
        response = await client.post(
            f"/v1/do-not-contact/{token}", data={"List-Unsubscribe": "One-Click"}
        )
        assert response.status_code == 204
    rows = (await db_session.execute(select(DoNotContact))).scalars().all()
    assert [row.address_hash for row in rows] == [hashed]
    assert address not in repr([(row.address_hash, row.created_at) for row in rows])
    forged = await client.post(f"/v1/do-not-contact/{token[:-3]}AAA")
    assert forged.status_code == 404
    assert forged.json()["type"].endswith("/stop-link-invalid")


async def test_an_address_on_the_list_gets_no_join_email_but_the_sender_cannot_tell(
    client: httpx.AsyncClient, settings: Settings, db_session: AsyncSession
) -> None:
    ada = await sign_in(client, "Ada")
    listed, fresh = new_address(), new_address()
    key = settings.email_invitations.address_key.get_secret_value()
    db_session.add(DoNotContact(address_hash=email_links.address_hash(key, listed)))
    await db_session.commit()
    to_listed = await invite_by_email(client, ada, listed)
    to_fresh = await invite_by_email(client, ada, fresh)
    assert to_listed.status_code == to_fresh.status_code == 201
    assert (await _row(db_session, to_listed.json()["email_invitation_id"])).join_email is False
    assert (await _row(db_session, to_fresh.json()["email_invitation_id"])).join_email is True


async def test_new_endpoints_are_documented_with_their_errors(api_app: FastAPI) -> None:
    paths = api_app.openapi()["paths"]
    expected = {
        ("/v1/join/{token}", "get"): {"404", "409", "410", "422"},
        ("/v1/do-not-contact/{token}", "post"): {"404", "422"},
        ("/v1/invitations/by-email", "get"): {"401", "422"},
        ("/v1/members/{member_id}/card", "get"): {"401", "404", "422"},
        ("/v1/invitations", "post"): {"404", "409", "422", "429"},
        ("/v1/auth/register", "post"): {"404", "409", "410", "422"},
    }
    for (path, method), statuses in expected.items():
        documented = set(paths[path][method]["responses"])
        assert statuses <= documented, (path, method, statuses - documented)
    created = paths["/v1/invitations"]["post"]["responses"]["201"]["content"]["application/json"]
    assert "EmailInvitationCreatedOut" in str(created["schema"])


async def test_a_masked_invitation_is_linked_to_its_email_row(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = (await invite_by_email(client, ada, bob.email)).json()
    row = await _row(db_session, sent["email_invitation_id"])
    invitation = await db_session.get(Invitation, row.invitation_id)
    assert invitation is not None
    assert invitation.email_invitation_id == row.id and invitation.invitee_id == bob.member_id
    assert row.join_email is False
