import uuid

from pydantic import BaseModel, Field

from rapport_common.strength import Band
from services.api.schemas import ContactOut


class LinkOut(BaseModel):
    from_member_id: uuid.UUID
    to_member_id: uuid.UUID
    band: Band = Field(
        description="strong >= 0.7, good >= 0.5, weak below: of my own rating for a link "
        "of mine, of the link's strength (its weaker side) for the others"
    )


class PathOut(BaseModel):
    intermediaries: list[ContactOut] = Field(description="Whom to ask, in order")
    hops: int
    links: list[LinkOut]


class PathsOut(BaseModel):
    degree: int | None = Field(
        description="1 if we are connected, else the fewest hops of a path I may see (2 or "
        "3), else null"
    )
    paths: list[PathOut]


class MutualOut(ContactOut):
    band_with_them: Band = Field(description="How well this mutual knows them")


class MutualsOut(BaseModel):
    mutuals: list[MutualOut] = Field(description="Best first: ask the first one")


class DegreeOut(BaseModel):
    degree: int | None = Field(
        description="1 if we are connected, else the fewest hops of a path I may see (2 or "
        "3), the same as in the paths, else null"
    )


class RatedContactOut(ContactOut):
    my_rating: int
    my_effective_rating: float


class WeedOutCandidate(ContactOut):
    my_rating: int
    days_since_interaction: float


class NetworkHealthOut(BaseModel):
    total: int
    effective_rating_histogram: dict[str, int] = Field(
        description="My effective ratings, rounded, counted per value 1-10"
    )
    fading: list[RatedContactOut] = Field(description="Faded 2 or more below my rating")
    weed_out: list[WeedOutCandidate] = Field(
        description="Rated 2 or less, or 3 or less with no interaction for 90 days"
    )
    by_how_we_met: dict[str, int]
