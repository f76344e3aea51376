import uuid

from pydantic import BaseModel, Field

from rapport_common.strength import Band
from services.api.pagination import Page
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


class PathPage(Page[PathOut]):
    """Best first: ask the first one's first intermediary."""

    degree: int | None = Field(
        description="1 if we are connected, else the fewest hops of a path I may see (2 or "
        "3), else null"
    )


class MutualOut(ContactOut):
    band_with_them: Band = Field(description="How well this mutual knows them")


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
    fading: Page[RatedContactOut] = Field(
        description="Faded 2 or more below my rating, the most faded first: the first page "
        "(`limit`), the next from GET /v1/me/network/health/fading with `next_cursor`"
    )
    weed_out: Page[WeedOutCandidate] = Field(
        description="Rated 2 or less, or 3 or less with no interaction for 90 days; the "
        "lowest rating, then the longest silent first: the first page (`limit`), the next "
        "from GET /v1/me/network/health/weed-out with `next_cursor`"
    )
    by_how_we_met: dict[str, int]
