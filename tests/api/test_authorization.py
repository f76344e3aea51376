"""Who may see and change what: another member gets 404 (no existence leak), no field can
be set by mass assignment, and no one sees another member's rating or suggestion."""

import httpx
import pytest

from tests.factories import invitation_id, sign_in, sign_in_all

READS = ["GET /v1/invitations/{id}"]
WRITES = [
    ("accept", {"rating": 5}),
    ("decline", None),
    ("later", None),
    ("ask", {"question": "Why?"}),
    ("answer", {"answer": "Because"}),
    ("withdraw", None),
    ("report", {"reason": "spam"}),
    ("referral", {"confirm": True}),
]


async def test_a_stranger_gets_404_on_reading_someone_elses_invitation(
    client: httpx.AsyncClient,
) -> None:
    ada, bob, eve = await sign_in_all(client, "Ada", "Bob", "Eve")
    sent = await invitation_id(client, ada, bob)
    response = await client.get(f"/v1/invitations/{sent}", headers=eve.headers)
    assert response.status_code == 404
    assert response.json()["detail"] == f"You have no invitation {sent}."


@pytest.mark.parametrize(("action", "body"), WRITES)
async def test_a_stranger_gets_404_on_every_action(
    client: httpx.AsyncClient, action: str, body: dict[str, object] | None
) -> None:
    ada, bob, eve = await sign_in_all(client, "Ada", "Bob", "Eve")
    sent = await invitation_id(client, ada, bob)
    response = await client.post(f"/v1/invitations/{sent}/{action}", json=body, headers=eve.headers)
    assert response.status_code == 404


async def test_lists_show_only_my_invitations(client: httpx.AsyncClient) -> None:
    ada, bob, eve = await sign_in_all(client, "Ada", "Bob", "Eve")
    await invitation_id(client, ada, bob)
    for box in ("received", "sent", "later"):
        page = await client.get(f"/v1/invitations?box={box}", headers=eve.headers)
        assert page.json()["items"] == []


async def test_the_invitee_never_sees_the_inviters_rating(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    sent = await invitation_id(client, ada, bob, my_rating=2)
    as_invitee = (await client.get(f"/v1/invitations/{sent}", headers=bob.headers)).json()
    as_inviter = (await client.get(f"/v1/invitations/{sent}", headers=ada.headers)).json()
    assert as_invitee["my_rating"] is None
    assert as_inviter["my_rating"] == 2


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/v1/invitations", {"status": "accepted"}),
        ("/v1/invitations", {"inviter_id": "00000000-0000-0000-0000-000000000001"}),
        ("/v1/invitations", {"referral_status": "confirmed"}),
    ],
)
async def test_unknown_fields_cannot_be_mass_assigned(
    client: httpx.AsyncClient, path: str, extra: dict[str, str]
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    body = {"to_member_id": str(bob.member_id), "note": "Hi", "how_we_met": "coffee", **extra}
    response = await client.post(path, json=body, headers=ada.headers)
    assert response.status_code == 422


@pytest.mark.parametrize("field", ["email", "password_hash", "member_id", "created_at"])
async def test_profile_update_refuses_protected_fields(
    client: httpx.AsyncClient, field: str
) -> None:
    me = await sign_in(client)
    response = await client.patch("/v1/me", json={field: "x"}, headers=me.headers)
    assert response.status_code == 422
