"""Event contracts: what the API publishes through the outbox, versioned.

Each event type has a payload model; consumers validate against the version they
receive, so a payload can grow (new optional fields) without a new version, and a
breaking change gets ``version + 1`` alongside the old one.
"""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


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


HowWeMet = Literal[
    "coffee", "meal", "beer", "event", "worked_together", "known_online", "never_met"
]
InteractionKind = Literal["coffee", "meal", "beer", "call", "message", "event"]


class ConnectionCreatedV1(BaseModel):
    """Two members are connected. A rating is the rater's private 1-10 score of the
    other; ``None`` until that side rates."""

    inviter_id: UUID
    invitee_id: UUID
    inviter_rating: int | None = Field(default=None, ge=1, le=10)
    invitee_rating: int | None = Field(default=None, ge=1, le=10)
    how_we_met: HowWeMet
    connected_at: datetime


class ConnectionRatedV1(BaseModel):
    """``rater_id`` re-rated their side of the connection with ``ratee_id``."""

    rater_id: UUID
    ratee_id: UUID
    rating: int = Field(ge=1, le=10)


class ConnectionRemovedV1(BaseModel):
    member_id: UUID
    other_member_id: UUID
    removed_at: datetime


class InteractionLoggedV1(BaseModel):
    """A meeting or exchange between two connected members; refreshes their strength."""

    member_id: UUID
    other_member_id: UUID
    kind: InteractionKind
    occurred_at: datetime


EVENT_PAYLOADS: dict[tuple[str, int], type[BaseModel]] = {
    ("member.registered", 1): MemberRegisteredV1,
    ("member.updated", 1): MemberUpdatedV1,
    ("connection.created", 1): ConnectionCreatedV1,
    ("connection.rated", 1): ConnectionRatedV1,
    ("connection.removed", 1): ConnectionRemovedV1,
    ("interaction.logged", 1): InteractionLoggedV1,
}


def parse_payload(envelope: EventEnvelope) -> BaseModel:
    """Validate an envelope's payload against its documented schema."""
    schema = EVENT_PAYLOADS.get((envelope.type, envelope.version))
    if schema is None:
        raise LookupError(f"unknown event {envelope.type} v{envelope.version}")
    return schema.model_validate(envelope.payload)
