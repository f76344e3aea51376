import uuid

from pydantic import BaseModel, ConfigDict, Field

from rapport_common.strength import Band


class LinkOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: uuid.UUID = Field(alias="from")
    to: uuid.UUID
    strength: float
    band: Band


class PathOut(BaseModel):
    intermediaries: list[uuid.UUID] = Field(description="The members between, in order.")
    hops: int = Field(description="2 or 3.")
    score: float = Field(description="The product of the links' strengths.")
    links: list[LinkOut]


class PathsOut(BaseModel):
    degree: int | None = Field(description="1, 2, 3, or null when further than 3.")
    paths: list[PathOut]


class DegreeOut(BaseModel):
    degree: int | None


class MutualOut(BaseModel):
    member_id: uuid.UUID
    strength_with_member: float
    strength_with_other: float


class MutualsOut(BaseModel):
    mutuals: list[MutualOut]
