"""A block made while an accept between the same two members is being written: the
accept's connection must not outlive the block. The interleaving is forced with a row
lock held by the test, so it happens on every run, not by chance."""

import asyncio
import uuid

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.connections import Connection
from rapport_common.outbox import OutboxEvent
from tests.conftest import eventually
from tests.factories import invitation_id, sign_in

WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
)


async def _waiting(db: async_sessionmaker[AsyncSession], at_least: int) -> bool:
    async with db() as session:
        return (await session.execute(WAITING_ON_A_LOCK)).scalar_one() >= at_least


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
        types = await session.execute(select(OutboxEvent.type).order_by(OutboxEvent.sequence))
        assert list(types.scalars())[-4:] == [
            "invitation.accepted",
            "connection.created",
            "connection.removed",
            "block.created",
        ]
