"""The invitee's answers (accept, decline) read the invitation without a lock and make
their change only if its row is still the one read; otherwise they read it again,
locked, and answer as they would have with the lock held from the start."""

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from rapport_common.models.connections import Connection
from rapport_common.models.invitations import Invitation
from rapport_common.outbox import OutboxEvent
from services.api.auth.tokens import AccessClaims
from services.api.deps import session_driver
from services.api.invitations import answers
from tests.factories import invitation_id, sign_in


async def _event_types(db: async_sessionmaker[AsyncSession], invitation: str) -> list[str]:
    async with db() as session:
        rows = await session.execute(
            select(OutboxEvent.type)
            .where(OutboxEvent.payload["invitation_id"].astext == invitation)
            .order_by(OutboxEvent.sequence)
        )
        return list(rows.scalars())


async def _connections(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return (await session.execute(select(func.count()).select_from(Connection))).scalar_one()


async def test_an_accept_and_a_decline_at_once_one_is_made_the_other_is_told_it_is_closed(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    client = committed_client
    ada = await sign_in(client, "Ada")
    invitees = [await sign_in(client, name) for name in ("Bob", "Cy", "Di", "Ed")]
    accepted = 0
    for invitee in invitees:
        invitation = await invitation_id(client, ada, invitee)
        path = f"/v1/invitations/{invitation}"
        accept, decline = await asyncio.gather(
            client.post(f"{path}/accept", json={"rating": 7}, headers=invitee.headers),
            client.post(f"{path}/decline", headers=invitee.headers),
        )
        statuses = sorted([accept.status_code, decline.status_code])
        assert statuses == [200, 409], (accept.text, decline.text)
        loser = accept if accept.status_code == 409 else decline
        assert loser.json()["type"].endswith("/invitation-closed")
        events = await _event_types(committed_db, invitation)
        if accept.status_code == 200:
            accepted += 1
            assert events == ["invitation.sent", "invitation.accepted"]
        else:
            assert events == ["invitation.sent", "invitation.declined"]
    assert await _connections(committed_db) == accepted


@pytest.mark.parametrize("answer", ["accept", "decline"])
async def test_an_answer_to_an_invitation_changed_since_it_was_read_writes_nothing(
    answer: str,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    api_app: FastAPI,
) -> None:
    # The route's own steps (``answers``), with the inviter's withdrawal between them.
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    invitation = await invitation_id(client, ada, bob)
    async with committed_db() as session:
        request = Request(
            {"type": "http", "app": api_app, "path_params": {"invitation_id": invitation}}
        )
        read = await answers.get_answer_read(request, AccessClaims(bob.member_id, None), session)
        assert read.me.id == bob.member_id
        usual = read.usual
        assert usual is not None and usual.invitation.id == uuid.UUID(invitation)
        # Meanwhile the inviter takes it back.
        withdrawn = await client.post(f"/v1/invitations/{invitation}/withdraw", headers=ada.headers)
        assert withdrawn.status_code == 200, withdrawn.text
        if answer == "accept":
            made = await answers.accept(session_driver(session), usual, read.now, 7, None)
        else:
            made = await answers.decline(session_driver(session), usual, read.now, "No, thank you.")
        assert made is None
        await session.commit()

    assert await _event_types(committed_db, invitation) == [
        "invitation.sent",
        "invitation.withdrawn",
    ]
    assert await _connections(committed_db) == 0
    async with committed_db() as session:
        stored = await session.get(Invitation, uuid.UUID(invitation))
        assert stored is not None and stored.status == "withdrawn"
    # Through the API, the answer now reads the invitation as it is.
    response = await client.post(
        f"/v1/invitations/{invitation}/{answer}",
        json={"rating": 7} if answer == "accept" else None,
        headers=bob.headers,
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("/invitation-closed")
