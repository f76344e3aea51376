"""The invitee's answers in their usual case (``services.api.invitations.answers``): read
without a lock on the driver's connection, the change made only if the invitation's row
is still the one read, and nothing written if it is not."""

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from services.api.auth.tokens import AccessClaims
from services.api.invitations import answers
from tests.api.test_answer_races import _connections, _event_types
from tests.factories import invitation_id, sign_in


def _request_for(app: FastAPI, invitation: str) -> Request:
    return Request({"type": "http", "app": app, "path_params": {"invitation_id": invitation}})


@pytest.mark.parametrize("answer", ["accept", "decline"])
async def test_a_usual_answer_to_an_invitation_changed_since_it_was_read_writes_nothing(
    answer: str,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    api_app: FastAPI,
) -> None:
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    invitation = await invitation_id(client, ada, bob)
    async with committed_db() as session:
        request = _request_for(api_app, invitation)
        read = await answers.get_answer_read(request, AccessClaims(bob.member_id, None), session)
        assert read.me.id == bob.member_id
        usual = read.usual
        assert usual is not None and usual.invitation.id == uuid.UUID(invitation)
        # Meanwhile the inviter takes it back.
        withdrawn = await client.post(f"/v1/invitations/{invitation}/withdraw", headers=ada.headers)
        assert withdrawn.status_code == 200, withdrawn.text
        if answer == "accept":
            made = await answers.accept(session, usual, read.now, 7, None)
        else:
            made = await answers.decline(session, usual, read.now, None)
        assert made is None
        await session.commit()

    assert await _event_types(committed_db, invitation) == [
        "invitation.sent",
        "invitation.withdrawn",
    ]
    assert await _connections(committed_db) == 0


@pytest.mark.parametrize("answer", ["accept", "decline"])
async def test_a_usual_answer_is_made_once_with_its_events(
    answer: str,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
) -> None:
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    invitation = await invitation_id(client, ada, bob)
    path = f"/v1/invitations/{invitation}/{answer}"
    body = {"rating": 7} if answer == "accept" else None
    first = await client.post(path, json=body, headers=bob.headers)
    assert first.status_code == 200, first.text
    shown = first.json()
    assert shown["status"] == {"accept": "accepted", "decline": "declined"}[answer]
    assert shown["my_role"] == "invitee"
    assert shown["inviter"]["member_id"] == str(ada.member_id)
    assert shown["closed_at"] is not None
    if answer == "decline":
        assert shown["decline_note"]  # the policy's template, rendered
    again = await client.post(path, json=body, headers=bob.headers)
    assert again.status_code == 409, again.text
    events = await _event_types(committed_db, invitation)
    if answer == "accept":
        assert events == ["invitation.sent", "invitation.accepted"]
        assert await _connections(committed_db) == 1
    else:
        assert events == ["invitation.sent", "invitation.declined"]
        assert await _connections(committed_db) == 0
    read_back = await client.get(f"/v1/invitations/{invitation}", headers=bob.headers)
    assert read_back.json() == shown
