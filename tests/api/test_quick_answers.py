"""The invitee's answers in their usual case (``services.api.invitations.answers``): read
without a lock on the driver's connection, the change made only if the invitation's row
is still the one read (nothing written if it is not: tests/api/test_answer_races.py)."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.test_answer_races import _connections, _event_types
from tests.factories import invitation_id, sign_in


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
