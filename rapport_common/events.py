"""Event contracts: what the API publishes through the outbox, versioned.

Each event type has a payload model; consumers validate against the version they
receive, so a payload can grow (new optional fields) without a new version, and a
breaking change gets ``version + 1`` alongside the old one.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class EventEnvelope(BaseModel):
    """How an event travels from the outbox to its consumers."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    # The outbox's global order: consumers ignore an event older than what they hold.
    sequence: int
    type: str
    version: int
    occurred_at: datetime
    request_id: str | None = None
    payload: dict[str, Any]


class MemberRegisteredV1(BaseModel):
    member_id: UUID
    name: str
    is_recruiter: bool = False
    allows_introductions: bool = True


class MemberUpdatedV1(BaseModel):
    member_id: UUID
    name: str
    is_recruiter: bool
    allows_introductions: bool


EVENT_PAYLOADS: dict[tuple[str, int], type[BaseModel]] = {
    ("member.registered", 1): MemberRegisteredV1,
    ("member.updated", 1): MemberUpdatedV1,
}


def parse_payload(envelope: EventEnvelope) -> BaseModel:
    """Validate an envelope's payload against its documented schema."""
    schema = EVENT_PAYLOADS.get((envelope.type, envelope.version))
    if schema is None:
        raise LookupError(f"unknown event {envelope.type} v{envelope.version}")
    return schema.model_validate(envelope.payload)
