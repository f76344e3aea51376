"""The transactional outbox: an event row written in the same transaction as the change."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base
from rapport_common.events import EVENT_PAYLOADS, EventEnvelope
from rapport_common.logging import request_id_var

OUTBOX_CHANNEL = "rapport_outbox"


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index(
            "ix_outbox_events_unrelayed", "sequence", postgresql_where=text("relayed_at IS NULL")
        ),
        Index(
            "ix_outbox_events_incomplete",
            "relayed_at",
            postgresql_where=text("completed_at IS NULL"),
        ),
        Index("ix_outbox_events_dead", "dead_at", postgresql_where=text("dead_at IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # A global order, so a rebuild replays events exactly as they happened.
    sequence: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    relayed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Runs of the event's job, the completing one included; ``last_error`` says why the
    # last failed run failed, naming its consumers.
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The consumers that are done with the event: a retry runs only the others.
    consumed_by: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default=text("'{}'")
    )
    # Times the reconciler relayed the event again; part of its job id, so a new relay is
    # not mistaken for the finished job the queue remembers.
    requeues: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Set when the event kept failing: it is not relayed again until an operator retries
    # it (``rapport outbox retry``).
    dead_at: Mapped[datetime | None]

    def envelope(self) -> EventEnvelope:
        return envelope_of(self)


def envelope_of(event: Any) -> EventEnvelope:
    """The envelope of an event row: an ``OutboxEvent``, or a row of its columns (the
    notifier reads rows, not objects)."""
    return EventEnvelope(
        event_id=event.id,
        sequence=event.sequence,
        type=event.type,
        version=event.version,
        occurred_at=event.created_at,
        request_id=event.request_id,
        payload=event.payload,
    )


def event_values(event_type: str, payload: BaseModel, version: int = 1) -> dict[str, Any]:
    """The columns of a new event row (the others take their defaults): for
    ``record_event``, and for a statement that writes the row together with its change."""
    expected = EVENT_PAYLOADS[(event_type, version)]
    if not isinstance(payload, expected):
        raise TypeError(f"{event_type} v{version} takes {expected.__name__}")
    return {
        "id": uuid.uuid4(),
        "type": event_type,
        "version": version,
        "payload": payload.model_dump(mode="json"),
        "request_id": request_id_var.get(),
    }


async def record_event(
    session: AsyncSession, event_type: str, payload: BaseModel, version: int = 1
) -> OutboxEvent:
    """Add an event to the caller's transaction; the relay is woken when it commits."""
    event = OutboxEvent(**event_values(event_type, payload, version))
    # The table's trigger sends NOTIFY on commit (migration "outbox notify trigger").
    session.add(event)
    return event
