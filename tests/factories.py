"""Builders that go through the public API, the way a client would."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

PASSWORD = "correct-horse-battery"

EmailVerifier = Callable[[uuid.UUID], Awaitable[None]]


class ApiClient(httpx.AsyncClient):
    """The test fixtures' API client. ``mark_email_verified`` records a member's email as
    verified in the client's own database transaction, for tests about something else;
    the verification flow itself is tested by following the emailed link."""

    mark_email_verified: EmailVerifier | None = None


@dataclass
class SignedIn:
    member_id: uuid.UUID
    email: str
    headers: dict[str, str]


async def register(
    client: httpx.AsyncClient, name: str = "Ada Lovelace", *, verified: bool = True, **fields: str
) -> uuid.UUID:
    """A new member, with a verified email unless ``verified=False``."""
    email = fields.pop("email", f"{uuid.uuid4().hex[:12]}@example.com")
    response = await client.post(
        "/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name, **fields}
    )
    assert response.status_code == 201, response.text
    member_id = uuid.UUID(response.json()["member_id"])
    if verified and isinstance(client, ApiClient) and client.mark_email_verified is not None:
        await client.mark_email_verified(member_id)
    return member_id


async def sign_in(
    client: httpx.AsyncClient, name: str = "Ada Lovelace", *, verified: bool = True, **fields: str
) -> SignedIn:
    email = fields.pop("email", f"{uuid.uuid4().hex[:12]}@example.com")
    member_id = await register(client, name, verified=verified, email=email, **fields)
    response = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return SignedIn(member_id, email, {"Authorization": f"Bearer {token}"})


async def invite(
    client: httpx.AsyncClient, inviter: SignedIn, invitee: SignedIn, **fields: object
) -> httpx.Response:
    body = {
        "to_member_id": str(invitee.member_id),
        "note": "Great to meet you!",
        "how_we_met": "coffee",
        **fields,
    }
    return await client.post("/v1/invitations", json=body, headers=inviter.headers)


async def invitation_id(
    client: httpx.AsyncClient, inviter: SignedIn, invitee: SignedIn, **fields: object
) -> str:
    response = await invite(client, inviter, invitee, **fields)
    assert response.status_code == 201, response.text
    return str(response.json()["invitation_id"])


async def connect(
    client: httpx.AsyncClient, a: SignedIn, b: SignedIn, a_rates: int = 8, b_rates: int = 8
) -> None:
    """Connect a and b through an invitation, each side with its rating."""
    invitation = await invitation_id(client, a, b, my_rating=a_rates)
    response = await client.post(
        f"/v1/invitations/{invitation}/accept", json={"rating": b_rates}, headers=b.headers
    )
    assert response.status_code == 200, response.text


async def sign_in_all(client: httpx.AsyncClient, *names: str) -> list[SignedIn]:
    return [await sign_in(client, name) for name in names]


async def declined_by_many(client: httpx.AsyncClient, count: int) -> None:
    """Ada invites ``count`` new members, and each declines: ``count`` decline notes to send.
    All are sent before any is declined, so Ada is not throttled halfway."""
    inviter = await sign_in(client, "Ada")
    invitees = await sign_in_all(client, *(f"Invitee {n}" for n in range(count)))
    sent = [await invitation_id(client, inviter, invitee) for invitee in invitees]
    for invitation, invitee in zip(sent, invitees, strict=True):
        response = await client.post(
            f"/v1/invitations/{invitation}/decline", headers=invitee.headers
        )
        assert response.status_code == 200, response.text
