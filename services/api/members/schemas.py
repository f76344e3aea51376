import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from services.api.schemas import OpaqueText, SingleLine, Strict

Name = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Headline = Annotated[SingleLine, StringConstraints(strip_whitespace=True, max_length=200)]
MarketArea = Annotated[
    SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)
]
Password = Annotated[OpaqueText, Field(min_length=10, max_length=256)]


class RegisterIn(Strict):
    email: EmailStr = Field(max_length=254)
    password: Password
    name: Name
    headline: Headline | None = None
    market_area: MarketArea | None = None


class RegisteredOut(BaseModel):
    member_id: uuid.UUID


class MemberProfileOut(BaseModel):
    """What anyone signed in may see of a member."""

    model_config = ConfigDict(from_attributes=True)

    member_id: uuid.UUID = Field(validation_alias="id")
    name: str
    headline: str | None
    market_area: str | None
    is_recruiter: bool
    networking_stance: Literal["closed", "semi_open", "open"]


class MeOut(MemberProfileOut):
    """My own profile, with my settings."""

    email: str
    connections_visible_to: Literal["only_me", "connections", "everyone"]
    allows_introductions: bool
    created_at: datetime


class MeUpdateIn(Strict):
    """Fields a member may change about themselves; omitted fields stay as they are."""

    name: Name | None = None
    headline: Headline | None = None
    market_area: MarketArea | None = None
    is_recruiter: bool | None = None
    networking_stance: Literal["closed", "semi_open", "open"] | None = None
    connections_visible_to: Literal["only_me", "connections", "everyone"] | None = None
    allows_introductions: bool | None = None
