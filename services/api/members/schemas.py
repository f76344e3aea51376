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


# What each privacy setting hides (docs/privacy.md), shown on both the read and the write.
CONNECTIONS_VISIBLE_TO = (
    "Who may see that you know someone, in anyone's connection list (yours or theirs): "
    "everyone signed in, your connections, or only you. only_me also keeps you out of "
    "every path, mutual connection and degree that other members see."
)
ALLOWS_INTRODUCTIONS = (
    "Whether you may appear between two other members: as an intermediary on a path, "
    "as a mutual connection, in a degree count, or as the one asked for an introduction. "
    "When false, none of these show your connections to anyone."
)
REACHABLE_BY = (
    "Who may see a way to you (paths, mutual connections and degree with you as the "
    "target): everyone (paths of up to 3 hops), second_degree (only 2 hops, through a "
    "mutual connection), or nobody (only your own connections know they are linked to "
    "you)."
)


class MeOut(MemberProfileOut):
    """My own profile, with my settings."""

    email: str
    connections_visible_to: Literal["only_me", "connections", "everyone"] = Field(
        description=CONNECTIONS_VISIBLE_TO
    )
    allows_introductions: bool = Field(description=ALLOWS_INTRODUCTIONS)
    reachable_by: Literal["everyone", "second_degree", "nobody"] = Field(description=REACHABLE_BY)
    created_at: datetime


class MeUpdateIn(Strict):
    """Fields a member may change about themselves; omitted fields stay as they are."""

    name: Name | None = None
    headline: Headline | None = None
    market_area: MarketArea | None = None
    is_recruiter: bool | None = None
    networking_stance: Literal["closed", "semi_open", "open"] | None = None
    connections_visible_to: Literal["only_me", "connections", "everyone"] | None = Field(
        default=None, description=CONNECTIONS_VISIBLE_TO
    )
    allows_introductions: bool | None = Field(default=None, description=ALLOWS_INTRODUCTIONS)
    reachable_by: Literal["everyone", "second_degree", "nobody"] | None = Field(
        default=None, description=REACHABLE_BY
    )
