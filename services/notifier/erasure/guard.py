"""Keeps every consumer away from an event about a deleted account.

The deletion removes the events that name the member from the outbox in its transaction,
but one may be in a consumer's hands at that moment, or its job may still be queued. So
each consumer first takes a key-share lock on the members the event names: if one is
gone, the event is about a deleted account and nothing is done with it (no notification,
no webhook, nothing projected that the graph's ``member.deleted`` would have to undo);
if all are there, the deletion waits for the lock, so it sees what the consumer wrote.

The lock is FOR KEY SHARE, which only a deletion (or a change of the key) waits for: the
API's own writes of a member row (a send's lock on its inviter) go on beside it. The
consumers of one event that share a transaction take it once: the session notes the
transaction that holds it, and a consumer run after a commit or a rollback takes it
again."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import EventEnvelope
from rapport_common.models.members import Member

logger = logging.getLogger(__name__)

# As in ``services/notifier/consumers.py``, which wraps its consumers with this module.
Consumer = Callable[[dict[str, Any], EventEnvelope, AsyncSession], Awaitable[None]]

# The payload fields that hold a member's id (rapport_common/events.py); the others
# (invitation_id, ...) name rows that go with their members.
MEMBER_FIELDS = frozenset(
    {
        "member_id",
        "other_member_id",
        "inviter_id",
        "invitee_id",
        "referrer_id",
        "requester_id",
        "intermediary_id",
        "target_id",
        "author_id",
        "subject_id",
        "rater_id",
        "ratee_id",
        "blocker_id",
        "blocked_id",
    }
)
# The one event about a member who is gone by design.
ABOUT_THE_DELETED = frozenset({"member.deleted"})


def members_named(payload: dict[str, Any]) -> set[uuid.UUID]:
    named = set()
    for field in MEMBER_FIELDS & payload.keys():
        try:
            named.add(uuid.UUID(str(payload[field])))
        except ValueError:
            continue  # null or not an id: the consumer's own validation decides
    return named


async def all_present(session: AsyncSession, member_ids: set[uuid.UUID]) -> list[Member] | None:
    """The members, if every one of them still exists (``None`` if not); each found is
    key-share locked until the session's transaction ends, so that a deletion waits for
    it. They are loaded whole: while the caller holds them, the session's identity map
    has them, so the consumer reads them without a query of its own."""
    found = await session.execute(
        select(Member).where(Member.id.in_(member_ids)).with_for_update(read=True, key_share=True)
    )
    members = list(found.scalars())
    return members if len(members) == len(member_ids) else None


# In ``session.info``: (event id, the transaction holding the lock, the members it loaded
# or ``None`` if one was gone). The members are kept with it: the session keeps loaded
# rows only as long as someone does, and the consumers look the same members up.
HELD = "rapport.erasure_guard"


async def about_the_living(session: AsyncSession, envelope: EventEnvelope) -> bool:
    """Whether every member the event names still exists; they stay locked until the
    session's transaction ends. Asked once per event and transaction."""
    named = members_named(envelope.payload)
    if envelope.type in ABOUT_THE_DELETED or not named:
        return True
    held = session.info.get(HELD)
    current = session.sync_session.get_transaction()
    if held is not None and current is not None:
        event_id, transaction, present = held
        if event_id == envelope.event_id and transaction is current:
            return present is not None
    present = await all_present(session, named)
    session.info[HELD] = (envelope.event_id, session.sync_session.get_transaction(), present)
    return present is not None


def skip_deleted_members(consumer: Consumer) -> Consumer:
    """``consumer``, run only when every member its event names still exists."""

    async def guarded(ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession) -> None:
        if not await about_the_living(session, envelope):
            logger.info(
                "event about a deleted account skipped",
                extra={"event_id": str(envelope.event_id), "type": envelope.type},
            )
            return
        await consumer(ctx, envelope, session)

    guarded.__name__ = getattr(consumer, "__name__", "consumer")
    guarded.__doc__ = consumer.__doc__
    return guarded
