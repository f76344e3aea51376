import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from rapport_common.events import HowWeMet, InteractionKind
from services.api.schemas import ContactOut, Instant, Strict


class ConnectionOut(ContactOut):
    """One of my connections, with my private rating and how it has faded."""

    how_we_met: HowWeMet
    connected_at: datetime
    last_interaction_at: datetime | None
    my_rating: int | None = Field(description="My private 1-10 rating; null until I rate")
    my_effective_rating: float | None = Field(description="My rating after fading with time")


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
