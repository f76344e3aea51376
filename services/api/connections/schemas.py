import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from rapport_common.events import HowWeMet, InteractionKind
from services.api.schemas import ContactOut, Instant, MultiLine, SingleLine, Strict

NOTE_ON_CONNECTION_MAX_LENGTH = 2000
MAX_TAGS = 20
Tag = Annotated[SingleLine, Field(min_length=1, max_length=40)]


class ConnectionOut(ContactOut):
    """One of my connections, with my private rating and how it has faded."""

    how_we_met: HowWeMet
    connected_at: datetime
    last_interaction_at: datetime | None
    my_rating: int | None = Field(description="My private 1-10 rating; null until I rate")
    my_effective_rating: float | None = Field(description="My rating after fading with time")
    my_note: str | None = Field(default=None, description="My private note; only I see it")
    my_tags: list[str] = Field(
        default_factory=list, description="My private tags, lower-cased; only I see them"
    )


class RateIn(Strict):
    rating: int = Field(ge=1, le=10, description="My private 1-10 rating of this connection")


class InteractionIn(Strict):
    kind: InteractionKind
    occurred_at: Instant = Field(description="When it happened; not in the future")


class InteractionOut(BaseModel):
    interaction_id: uuid.UUID
    member_id: uuid.UUID
    kind: InteractionKind
    occurred_at: datetime


class NoteIn(Strict):
    """My own note and tags on a connection; they replace what was there."""

    note: MultiLine | None = Field(default=None, max_length=NOTE_ON_CONNECTION_MAX_LENGTH)
    tags: list[Tag] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description="Stored lower-cased, each once, in the order given",
    )

    @field_validator("tags")
    @classmethod
    def _lower_and_once(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))
