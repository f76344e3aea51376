"""A send by id reads without a lock and writes only if the inviter's row is still the
version it read (``quick_send``); otherwise it sends the locked way. Sends at the same
moment by one member still count one after the other. An invitee gone while a send is
written is not found, as after."""

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.enums import InvitationStatus
from rapport_common.models.invitations import Invitation
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.api.invitations.repository import InvitationRepository
from tests.conftest import SteppingClock, eventually
from tests.factories import SignedIn, invite, sign_in

# A backend whose insert of an invitation waits for a row lock.
INSERT_WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND datname = current_database() AND query LIKE '%INSERT INTO invitations%'"
)


@pytest.fixture
def weekly_limit_3(api_app: FastAPI, settings: Settings) -> None:
    limits = settings.invitations.model_copy(update={"weekly_limit": 3, "pending_cap": 100})
    api_app.state.settings = settings.model_copy(update={"invitations": limits})


async def _sent_by(db: async_sessionmaker[AsyncSession], member: SignedIn) -> tuple[int, int]:
    """The member's invitations, and the ``invitation.sent`` events naming them."""
    async with db() as session:
        invitations = await session.scalar(
            select(func.count()).where(Invitation.inviter_id == member.member_id)
        )
        events = await session.scalar(
            select(func.count()).where(
                OutboxEvent.type == "invitation.sent",
                OutboxEvent.payload["inviter_id"].astext == str(member.member_id),
            )
        )
        return invitations or 0, events or 0


@pytest.mark.usefixtures("weekly_limit_3")
async def test_sends_by_one_member_at_once_stay_within_the_weekly_limit(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    client = committed_client
    ada = await sign_in(client, "Ada")
    others = [await sign_in(client, f"Member {n}") for n in range(6)]
    responses = await asyncio.gather(*(invite(client, ada, other) for other in others))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 201, 201, 429, 429, 429], [r.text for r in responses]
    assert await _sent_by(committed_db, ada) == (3, 3)


@pytest.mark.usefixtures("weekly_limit_3")
async def test_a_send_read_before_another_send_committed_counts_that_send(
    clock: SteppingClock,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
) -> None:
    # Another send holds Ada's send lock and stores three invitations; Ada's send by id
    # reads before they commit, so what it read says 0 of 3.
    client = committed_client
    ada = await sign_in(client, "Ada")
    others = [await sign_in(client, f"Member {n}") for n in range(4)]
    async with committed_db() as other_send:
        await InvitationRepository(other_send).lock_inviter(ada.member_id)
        other_send.add_all(
            Invitation(
                inviter_id=ada.member_id,
                invitee_id=other.member_id,
                note="Hi",
                how_we_met="coffee",
                status=InvitationStatus.PENDING,
                created_at=clock(),
            )
            for other in others[:3]
        )
        await other_send.flush()
        sending = asyncio.ensure_future(invite(client, ada, others[3]))

        async def waiting_for_the_lock() -> bool:
            async with committed_db() as session:
                waiting = await session.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                )
                return bool(waiting)

        await eventually(waiting_for_the_lock)
        await other_send.commit()
    response = await asyncio.wait_for(sending, timeout=10)
    assert response.status_code == 429, response.text
    assert response.json()["type"].endswith("/invitation-limit")
    assert await _sent_by(committed_db, ada) == (3, 0)


@pytest.mark.parametrize("way", ["locked", "quick"])
async def test_a_send_to_a_member_deleted_while_it_is_written_is_not_found(
    way: str,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
) -> None:
    # Bob deletes his account in a transaction the test holds: the send (locked, as an
    # idempotency key makes it, or the quick way) reads him as he still is, and its
    # insert waits on his row; the deletion commits, and the insert's foreign key finds
    # him gone.
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    key = {"Idempotency-Key": str(uuid.uuid4())} if way == "locked" else {}
    headers = {**ada.headers, **key}
    body = {"to_member_id": str(bob.member_id), "note": "Hello", "how_we_met": "coffee"}
    async with committed_db() as deleting:
        await deleting.execute(text("DELETE FROM members WHERE id = :id"), {"id": bob.member_id})
        sending = asyncio.ensure_future(client.post("/v1/invitations", json=body, headers=headers))

        async def insert_waiting() -> bool:
            async with committed_db() as session:
                waiting = await session.scalar(INSERT_WAITING_ON_A_LOCK)
                return bool(waiting)

        await eventually(insert_waiting)
        await deleting.commit()
    response = await asyncio.wait_for(sending, timeout=10)
    assert response.status_code == 404, response.text
    # The same answer as a send after the deletion.
    later = await client.post("/v1/invitations", json=body, headers=ada.headers)
    assert later.status_code == 404, later.text
    assert (
        response.json()["detail"]
        == later.json()["detail"]
        == f"There is no member {bob.member_id}."
    )
    assert await _sent_by(committed_db, ada) == (0, 0)
