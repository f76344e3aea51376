import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class ConnectionOut(BaseModel):
    member_id: uuid.UUID = Field(description="The other member.")
    my_rating: int | None = Field(description="My private 1-10 rating of them; null if unrated.")
    my_effective_rating: float | None = Field(description="My rating after decay.")
    strength: float = Field(description="min of both effective ratings / 10, in [0.1, 1].")
    how_we_met: str
    connected_at: datetime
    last_interaction_at: datetime | None


class ConnectionsOut(BaseModel):
    connections: list[ConnectionOut]


class FadingOut(BaseModel):
    member_id: uuid.UUID
    my_rating: int
    my_effective_rating: float


class WeedOutOut(BaseModel):
    member_id: uuid.UUID
    my_rating: int
    days_since_interaction: int = Field(
        description="Whole days since the last interaction, or since connecting if none."
    )


class HealthOut(BaseModel):
    total: int
    effective_rating_histogram: dict[str, int] = Field(
        description="My effective ratings rounded half up, per bucket '1'..'10'."
    )
    fading: list[FadingOut]
    weed_out: list[WeedOutOut]
    by_how_we_met: dict[str, int]
