"""A block made while an accept or a send between the same two members is being
written: what they make must not outlive the block. The interleavings are forced with a
row lock held by the test, so they happen on every run, not by chance."""

import asyncio
import uuid

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.connections import Connection
from rapport_common.models.invitations import Invitation
from rapport_common.outbox import OutboxEvent
from tests.conftest import eventually
from tests.factories import invitation_id, invite, sign_in

WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
)


async def _waiting(db: async_sessionmaker[AsyncSession], at_least: int) -> bool:
    async with db() as session:
        waiting: int = (await session.execute(WAITING_ON_A_LOCK)).scalar_one()
        return waiting >= at_least


async def _hold_as_a_send_would(holder: AsyncSession, member_id: uuid.UUID) -> None:
    """The member's row locked as their send's own write locks it (the foreign keys'
    share locks pass)."""
    await holder.execute(
        text("SELECT 1 FROM members WHERE id = :id FOR NO KEY UPDATE"), {"id": member_id}
    )


async def _event_types(session: AsyncSession) -> list[str]:
    types = await session.execute(select(OutboxEvent.type).order_by(OutboxEvent.sequence))
    return list(types.scalars())


async def test_a_block_during_an_accept_removes_the_connection_the_accept_made(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    invitation = await invitation_id(client, ada, bob)
    path = f"/v1/invitations/{invitation}"
    async with committed_db() as holder:
        # The test holds the invitation's row: the accept reads it, then waits to write.
        await holder.execute(
            text("SELECT 1 FROM invitations WHERE id = :id FOR UPDATE"),
            {"id": uuid.UUID(invitation)},
        )
        accept = asyncio.create_task(
            client.post(f"{path}/accept", json={"rating": 7}, headers=bob.headers)
        )
        await eventually(lambda: _waiting(committed_db, 1))
        # The block comes second: it queues behind the accept for the same row.
        block = asyncio.create_task(client.post(f"/v1/blocks/{ada.member_id}", headers=bob.headers))
        await eventually(lambda: _waiting(committed_db, 2))
        await holder.rollback()
    accepted, blocked = await accept, await block
    assert accepted.status_code == 200, accepted.text
    assert blocked.status_code == 204, blocked.text
    async with committed_db() as session:
        connections = await session.execute(select(func.count()).select_from(Connection))
        assert connections.scalar_one() == 0
        assert (await _event_types(session))[-4:] == [
            "invitation.accepted",
            "connection.created",
            "connection.removed",
            "block.created",
        ]


async def test_a_block_during_a_send_closes_the_invitation_the_send_made(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    async with committed_db() as holder:
        # Her send reads without a lock, then waits to write.
        await _hold_as_a_send_would(holder, ada.member_id)
        send = asyncio.create_task(invite(client, ada, bob))
        await eventually(lambda: _waiting(committed_db, 1))
        block = asyncio.create_task(client.post(f"/v1/blocks/{ada.member_id}", headers=bob.headers))

        async def queued_or_done() -> bool:
            return block.done() or await _waiting(committed_db, 2)

        # The block either queues behind the send or, were it not to wait, is done.
        await eventually(queued_or_done)
        await holder.rollback()
    sent, blocked = await send, await block
    assert sent.status_code == 201, sent.text
    assert blocked.status_code == 204, blocked.text
    async with committed_db() as session:
        invitation = await session.get(Invitation, uuid.UUID(sent.json()["invitation_id"]))
        assert invitation is not None
        assert invitation.status == "expired"
        assert (await _event_types(session))[-3:] == [
            "invitation.sent",
            "invitation.expired",
            "block.created",
        ]


async def test_a_send_waiting_on_a_block_is_refused_as_after_it(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    async with committed_db() as holder:
        await _hold_as_a_send_would(holder, ada.member_id)
        # The block comes first and waits for Ada's row; then her send, locked (an
        # idempotency key takes the locked way), waits behind it.
        block = asyncio.create_task(client.post(f"/v1/blocks/{ada.member_id}", headers=bob.headers))
        await eventually(lambda: _waiting(committed_db, 1))
        headers = {**ada.headers, "Idempotency-Key": str(uuid.uuid4())}
        body = {"to_member_id": str(bob.member_id), "note": "Hello", "how_we_met": "coffee"}
        send = asyncio.create_task(client.post("/v1/invitations", json=body, headers=headers))
        await eventually(lambda: _waiting(committed_db, 2))
        await holder.rollback()
    blocked, sent = await block, await send
    assert blocked.status_code == 204, blocked.text
    assert sent.status_code == 404, sent.text
    async with committed_db() as session:
        invitations = await session.execute(select(func.count()).select_from(Invitation))
        assert invitations.scalar_one() == 0
