"""The invitee's answers in their usual case (``services.api.invitations.answers``): read
without a lock on the driver's connection, the change made only if the invitation's row
is still the one read (nothing written if it is not: tests/api/test_answer_races.py).
The usual accept is one statement (``answers_at_once.accept_at_once``), which must write what
the two would."""

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.clock import system_clock
from rapport_common.models.connections import Connection
from rapport_common.models.enums import InvitationStatus
from rapport_common.models.invitations import Invitation
from rapport_common.outbox import OutboxEvent
from services.api.auth.tokens import AccessClaims
from services.api.deps import session_driver
from services.api.invitations import answers_at_once, transitions
from tests.api.test_answer_races import _connections, _event_types
from tests.factories import invitation_id, sign_in

_CONNECTION_COLUMNS = [column.name for column in Connection.__table__.c]


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


async def test_an_accept_in_one_statement_writes_what_the_rules_give(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    """Each rating on its member's side (the invitee on the low side, then the high
    side), how they met from the row or from the invitee, both events as
    ``transitions.accepted`` makes them from the row read before."""
    client = committed_client
    names = ("Ada", "Bob", "Cy")
    low, middle, high = sorted([await sign_in(client, n) for n in names], key=lambda m: m.member_id)
    for inviter, invitee, how_we_met in ((high, low, None), (low, middle, "meal")):
        invitation = await invitation_id(client, inviter, invitee, my_rating=4, how_we_met="coffee")
        async with committed_db() as session:
            before = await session.get(Invitation, uuid.UUID(invitation))
        assert before is not None
        body = {"rating": 9} | ({"how_we_met": how_we_met} if how_we_met else {})
        path = f"/v1/invitations/{invitation}/accept"
        response = await client.post(path, json=body, headers=invitee.headers)
        assert response.status_code == 200, response.text
        now = datetime.fromisoformat(response.json()["closed_at"])
        _, events, connection = transitions.accepted(before, 9, how_we_met, now)
        async with committed_db() as session:
            pair = Connection.pair(inviter.member_id, invitee.member_id)
            made = await session.get(Connection, pair)
            written = (
                await session.execute(
                    select(OutboxEvent).order_by(OutboxEvent.sequence.desc()).limit(2)
                )
            ).scalars()
            recorded = [(event.type, event.payload) for event in reversed(list(written))]
        assert made is not None
        assert {name: getattr(made, name) for name in _CONNECTION_COLUMNS} == {
            name: getattr(connection, name, None) for name in _CONNECTION_COLUMNS
        }
        assert recorded == [(event["type"], event["payload"]) for event in events]
        shown = await client.get(f"/v1/invitations/{invitation}", headers=invitee.headers)
        assert shown.json() == response.json()


async def test_an_accept_in_one_statement_writes_nothing_but_the_usual_accept(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    """Not the invitee, a question past its expiry, an invitation closed already: the
    statement changes nothing (the two statements then give the answer)."""
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    invitation = uuid.UUID(await invitation_id(client, ada, bob))

    async def at_once(member: uuid.UUID, now: datetime) -> object:
        async with committed_db() as session:
            made = await answers_at_once.accept_at_once(
                session_driver(session), AccessClaims(member, None), invitation, now, 7, None
            )
            await session.commit()
        return made

    now = system_clock()
    assert await at_once(ada.member_id, now) is None  # the inviter
    async with committed_db() as session:
        await session.execute(
            update(Invitation)
            .where(Invitation.id == invitation)
            .values(status=InvitationStatus.AWAITING_ANSWER, question_expires_at=now)
        )
        await session.commit()
    assert await at_once(bob.member_id, now) is None  # its question's time is up
    assert await at_once(bob.member_id, now - timedelta(seconds=1)) is not None
    assert await at_once(bob.member_id, now) is None  # accepted already
    assert await _connections(committed_db) == 1
    assert await _event_types(committed_db, str(invitation)) == [
        "invitation.sent",
        "invitation.accepted",
    ]


async def test_a_decline_with_its_own_note_in_one_statement_writes_what_the_rules_give(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    invitation = uuid.UUID(await invitation_id(client, ada, bob))
    async with committed_db() as session:
        before = await session.get(Invitation, invitation)
        made = await answers_at_once.decline_at_once(
            session_driver(session),
            AccessClaims(ada.member_id, None),
            invitation,
            system_clock(),
            "No.",
        )
        await session.commit()
    assert before is not None
    assert made is None  # the inviter's
    path = f"/v1/invitations/{invitation}/decline"
    response = await client.post(path, json={"note": "Not now, thanks."}, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert response.json()["decline_note"] == "Not now, thanks."
    closed_at = datetime.fromisoformat(response.json()["closed_at"])
    _, events = transitions.declined(before, "Not now, thanks.", closed_at)
    async with committed_db() as session:
        last = (
            await session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence.desc()))
        ).scalars()
        event = next(iter(last))
    assert (event.type, event.payload) == (events[0]["type"], events[0]["payload"])
    shown = await client.get(f"/v1/invitations/{invitation}", headers=bob.headers)
    assert shown.json() == response.json()
