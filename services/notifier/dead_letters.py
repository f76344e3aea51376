"""Outbox events the worker gave up on: listed and retried by operators (``rapport
outbox dead``, ``rapport outbox retry``), counted by the worker's ``/outbox`` health
detail."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.outbox import OUTBOX_CHANNEL, OutboxEvent


async def dead_events(session: AsyncSession, limit: int = 100) -> Sequence[OutboxEvent]:
    """The dead events, oldest death first."""
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.dead_at.is_not(None))
        .order_by(OutboxEvent.dead_at, OutboxEvent.sequence)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def outbox_health(session: AsyncSession) -> dict[str, Any]:
    """How many events are dead (and since when), and how many are still on their way."""
    dead, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxEvent.dead_at)).where(
                OutboxEvent.dead_at.is_not(None)
            )
        )
    ).one()
    unfinished, oldest_unfinished = (
        await session.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(
                OutboxEvent.completed_at.is_(None), OutboxEvent.dead_at.is_(None)
            )
        )
    ).one()
    oldest_dead_at: datetime | None = oldest
    oldest_unfinished_at: datetime | None = oldest_unfinished
    return {
        "dead_events": dead,
        "oldest_dead_at": oldest_dead_at.isoformat() if oldest_dead_at else None,
        "unfinished_events": unfinished or 0,
        "oldest_unfinished_at": oldest_unfinished_at.isoformat() if oldest_unfinished_at else None,
    }


async def retry_dead(session: AsyncSession, event_id: uuid.UUID) -> bool:
    """Send a dead event back to the relay with a fresh count of attempts; the consumers
    already done with it are not run again. False if it is not dead. Flushes only."""
    retried = await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id, OutboxEvent.dead_at.is_not(None))
        .values(
            dead_at=None,
            attempts=0,
            relayed_at=None,
            # A new job id: the queue still remembers the finished one.
            requeues=OutboxEvent.requeues + 1,
        )
        .returning(OutboxEvent.id)
    )
    if retried.scalar_one_or_none() is None:
        return False
    # The relay wakes on commit, as for a new event.
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
    return True
