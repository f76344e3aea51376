"""Idempotency-Key on creating POSTs."""

import asyncio
import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.invitations import Invitation
from tests.factories import PASSWORD, sign_in, sign_in_all


def _invitation(to: uuid.UUID) -> dict[str, str]:
    return {"to_member_id": str(to), "note": "Hello", "how_we_met": "meal"}


async def test_same_key_and_body_replays_the_first_response(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    headers = {**ada.headers, "Idempotency-Key": "k-1"}
    first = await client.post("/v1/invitations", json=_invitation(bob.member_id), headers=headers)
    again = await client.post("/v1/invitations", json=_invitation(bob.member_id), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"


async def test_same_key_with_another_body_is_422(client: httpx.AsyncClient) -> None:
    ada, bob, cy = await sign_in_all(client, "Ada", "Bob", "Cy")
    headers = {**ada.headers, "Idempotency-Key": "k-2"}
    await client.post("/v1/invitations", json=_invitation(bob.member_id), headers=headers)
    other = await client.post("/v1/invitations", json=_invitation(cy.member_id), headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")


async def test_keys_are_scoped_per_member(client: httpx.AsyncClient) -> None:
    ada, bob, cy = await sign_in_all(client, "Ada", "Bob", "Cy")
    key = {"Idempotency-Key": "shared-key"}
    first = await client.post(
        "/v1/invitations", json=_invitation(cy.member_id), headers={**ada.headers, **key}
    )
    second = await client.post(
        "/v1/invitations", json=_invitation(cy.member_id), headers={**bob.headers, **key}
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["invitation_id"] != second.json()["invitation_id"]


async def test_concurrent_duplicates_create_one_invitation(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    ada, bob = await sign_in(committed_client, "Ada"), await sign_in(committed_client, "Bob")
    headers = {**ada.headers, "Idempotency-Key": "race"}
    responses = await asyncio.gather(
        *(
            committed_client.post(
                "/v1/invitations", json=_invitation(bob.member_id), headers=headers
            )
            for _ in range(6)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["invitation_id"] for r in responses}) == 1
    async with committed_db() as session:
        assert (await session.execute(select(func.count()).select_from(Invitation))).scalar() == 1


async def test_register_is_idempotent_too(client: httpx.AsyncClient) -> None:
    body = {"email": "idem@example.com", "password": PASSWORD, "name": "Idem"}
    headers = {"Idempotency-Key": "signup-1"}
    first = await client.post("/v1/auth/register", json=body, headers=headers)
    again = await client.post("/v1/auth/register", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
