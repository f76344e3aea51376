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
again. The lock reads what the consumers show of each member (``MEMBER_COLUMNS``) as
plain objects, and whether they have a webhook endpoint, on the driver
(``services/notifier/driver.py``); ``held`` gives that to the consumers, so they need no
query of their own for it."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, Uuid, any_, bindparam, exists, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.db import DriverStatement
from rapport_common.events import EventEnvelope
from rapport_common.models.members import Member
from rapport_common.models.webhooks import WebhookEndpoint
from services.notifier import driver

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


# What the consumers read of a member the event names: who they are, how to write to
# them (their address, language and zone), whether they proved their address.
MEMBER_COLUMNS = (
    "id",
    "email",
    "name",
    "given_name",
    "headline",
    "email_verified_at",
    "locale",
    "time_zone",
)
_MEMBERS = cast(Table, Member.__table__)
_ENDPOINTS = cast(Table, WebhookEndpoint.__table__)
_LOCK = DriverStatement(
    select(
        *(_MEMBERS.c[name] for name in MEMBER_COLUMNS),
        exists().where(_ENDPOINTS.c.member_id == _MEMBERS.c.id).label("has_webhook_endpoints"),
    )
    .where(_MEMBERS.c.id == any_(bindparam("ids", type_=ARRAY(Uuid()))))
    .with_for_update(read=True, key_share=True, of=_MEMBERS)
)


@dataclass(frozen=True)
class Present:
    """The members an event names, all there, as the lock read them."""

    members: dict[uuid.UUID, Member]
    # Those with a webhook endpoint (any, enabled or not): the webhook fan-out looks for
    # no endpoint of the others (most members have none).
    with_endpoints: frozenset[uuid.UUID]


async def all_present(session: AsyncSession, member_ids: set[uuid.UUID]) -> Present | None:
    """The members, if every one of them still exists (``None`` if not); each found is
    key-share locked until the session's transaction ends, so that a deletion waits for
    it. They come as plain objects holding ``MEMBER_COLUMNS``, in no session."""
    rows = await driver.fetch(session, _LOCK, {"ids": list(member_ids)})
    if len(rows) != len(member_ids):
        return None
    members = {
        row["id"]: driver.plain(Member, {name: row[name] for name in MEMBER_COLUMNS})
        for row in rows
    }
    with_endpoints = frozenset(row["id"] for row in rows if row["has_webhook_endpoints"])
    return Present(members, with_endpoints)


# In ``session.info``: (event id, the transaction holding the lock, what it read, or
# ``None`` if a member was gone).
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


def held(session: AsyncSession) -> Present | None:
    """What the guard read of the members it holds locked in the session's current
    transaction (``None`` after a commit or a rollback, or if it holds none)."""
    kept = session.info.get(HELD)
    if kept is None or kept[1] is not session.sync_session.get_transaction():
        return None
    present: Present | None = kept[2]
    return present


def held_members(session: AsyncSession) -> dict[uuid.UUID, Member]:
    """The members the guard holds locked in the session's current transaction, as
    ``all_present`` read them (none after a commit or a rollback)."""
    present = held(session)
    return {} if present is None else present.members


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
