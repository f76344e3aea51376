import uuid

from pydantic import BaseModel, ConfigDict, Field

from rapport_common.strength import Band


class LinkOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: uuid.UUID = Field(alias="from")
    to: uuid.UUID
    band: Band = Field(
        description="For the viewer's own link, the band of the viewer's own rating; for "
        "the others, of the link's strength (its weaker side)."
    )


class PathOut(BaseModel):
    intermediaries: list[uuid.UUID] = Field(description="The members between, in order.")
    hops: int = Field(description="2 or 3.")
    score: float = Field(
        description="The product of the links' band weights (strong 0.85, good 0.6, weak "
        "0.3): a function of the bands shown, never of a rating."
    )
    links: list[LinkOut]


class PathsOut(BaseModel):
    degree: int | None = Field(
        description="1 if connected, else the fewest hops of a way the source may see (2 "
        "or 3), else null. The same search as the paths, so the two agree."
    )
    paths: list[PathOut]


class DegreeOut(BaseModel):
    degree: int | None


class MutualOut(BaseModel):
    member_id: uuid.UUID
    my_strength: float = Field(
        description="member_id's own effective rating of this mutual / 10 (their own side)."
    )
    band_with_other: Band = Field(description="The band of this mutual's link with other_id.")


class MutualsOut(BaseModel):
    mutuals: list[MutualOut]
