"""Applies outbox events to the graph. Idempotent: replaying an event, or an older one,
changes nothing, because each write is guarded by the event's outbox sequence."""

from collections.abc import Awaitable, Callable

from pydantic import BaseModel

from rapport_common.events import (
    EventEnvelope,
    MemberRegisteredV1,
    MemberUpdatedV1,
    parse_payload,
)
from services.graph import queries
from services.graph.database import Graph

Projector = Callable[[Graph, EventEnvelope, BaseModel], Awaitable[None]]


async def _upsert_member(graph: Graph, envelope: EventEnvelope, payload: BaseModel) -> None:
    assert isinstance(payload, MemberRegisteredV1 | MemberUpdatedV1)
    await graph.write(
        queries.UPSERT_MEMBER,
        member_id=str(payload.member_id),
        name=payload.name,
        is_recruiter=payload.is_recruiter,
        allows_introductions=payload.allows_introductions,
        sequence=envelope.sequence,
    )


PROJECTORS: dict[str, Projector] = {
    "member.registered": _upsert_member,
    "member.updated": _upsert_member,
}


async def apply_event(graph: Graph, envelope: EventEnvelope) -> bool:
    """Apply one event; return False when the graph does not care about its type."""
    projector = PROJECTORS.get(envelope.type)
    if projector is None:
        return False
    await projector(graph, envelope, parse_payload(envelope))
    return True
