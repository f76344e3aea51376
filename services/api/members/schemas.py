import uuid
import zoneinfo
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    PlainSerializer,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from services.api.auth.password_rules import NewPassword
from services.api.policies.schemas import PolicyIn
from services.api.schemas import ContactOut, MultiLine, SingleLine, Strict

Name = Annotated[SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Headline = Annotated[SingleLine, StringConstraints(strip_whitespace=True, max_length=200)]
MarketArea = Annotated[
    SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)
]


def _not_blank(text: str) -> str:
    # The length bound is checked before the spaces are stripped.
    if not text:
        raise PydanticCustomError("blank", "must not be blank")
    return text


GivenName = Annotated[
    SingleLine,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(_not_blank),
]
GIVEN_NAME = 'What messages call you ("Hi Ada,"); null: the first word of your name.'
Password = NewPassword
Company = Annotated[
    SingleLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
]
Title = Company
Bio = Annotated[MultiLine, StringConstraints(strip_whitespace=True, max_length=500)]
# A BCP 47 tag such as "en", "pt-BR" or "zh-Hant-TW"; its alphabet has no character
# SingleLine refuses, and a plain str keeps the pattern in the OpenAPI document.
Locale = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")]

_TIME_ZONES = frozenset(zoneinfo.available_timezones())


def _known_time_zone(name: str) -> str:
    if name not in _TIME_ZONES:
        raise PydanticCustomError(
            "unknown_time_zone", "must be an IANA time zone such as Europe/Paris"
        )
    return name


def _plain_web_link(url: HttpUrl) -> HttpUrl:
    # A link shown to other members: no credentials in it, nothing but the web.
    if url.username or url.password:
        raise PydanticCustomError("link_with_credentials", "must not contain a user or password")
    if len(str(url)) > 300:
        raise PydanticCustomError("link_too_long", "must be at most 300 characters")
    return url


TimeZone = Annotated[SingleLine, AfterValidator(_known_time_zone)]
Link = Annotated[HttpUrl, AfterValidator(_plain_web_link), PlainSerializer(str, return_type=str)]
Links = Annotated[list[Link], Field(max_length=3)]


class RegisterIn(Strict):
    email: EmailStr = Field(max_length=254)
    password: Password
    name: Name
    headline: Headline | None = None
    market_area: MarketArea | None = None
    company: Company | None = None
    title: Title | None = None


class RegisteredMemberOut(BaseModel):
    member_id: uuid.UUID
    email: str
    name: str


class RegisteredOut(BaseModel):
    """What a client needs next: the member, and that their email awaits verification
    (until then they may read but not reach out; see ``email-unverified``)."""

    member_id: uuid.UUID = Field(description="Same as member.member_id (kept for older clients)")
    member: RegisteredMemberOut
    email_verification: Literal["pending", "verified"] = Field(
        description="pending: we emailed a link to the address; following it verifies it"
    )


class MemberProfileOut(BaseModel):
    """What anyone signed in may see of a member."""

    model_config = ConfigDict(from_attributes=True)

    member_id: uuid.UUID = Field(validation_alias="id")
    name: str
    headline: str | None
    market_area: str | None
    is_recruiter: bool
    networking_stance: Literal["closed", "semi_open", "open"]
    company: str | None
    title: str | None
    bio: str | None
    links: list[str]
    locale: str | None
    time_zone: str | None


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
FINDABLE_BY = (
    "Who may find you in member search: everyone signed in, members within 3 degrees "
    "(as far as the privacy rule lets them see a way to you), or nobody. Your profile "
    "stays readable by its id."
)
FINDABLE_BY_EMAIL = (
    "Whether someone who types your exact email address finds you, in search and when "
    "inviting by email. Search never matches part of an address."
)
DECLINE_COOLDOWN_DAYS = (
    "After you decline an invitation, how many days before the same sender may invite "
    "you again (1-3650); null: never again."
)
RECOMMENDATIONS_VISIBLE_TO = (
    "Who may read the recommendations you approved on your profile: everyone signed in, "
    "your connections, or only you."
)


class PresetOfferOut(BaseModel):
    """The linking-policy preset matching a new networking stance."""

    preset: str
    description: str
    policy: PolicyIn
    policy_version: int = Field(
        description="The version of your current policy: send it as If-Match (quoted) "
        "with the PUT, so a change made meanwhile is not overwritten."
    )


class MeOut(MemberProfileOut):
    """My own profile, with my settings."""

    email: str
    email_verified_at: datetime | None = Field(
        description="When I confirmed my address; null until then, and until then "
        "invitations, introductions, recommendations and webhook endpoints answer 403 "
        "`email-unverified`"
    )
    given_name: str | None = Field(description=GIVEN_NAME)
    connections_visible_to: Literal["only_me", "connections", "everyone"] = Field(
        description=CONNECTIONS_VISIBLE_TO
    )
    allows_introductions: bool = Field(description=ALLOWS_INTRODUCTIONS)
    reachable_by: Literal["everyone", "second_degree", "nobody"] = Field(description=REACHABLE_BY)
    findable_by: Literal["everyone", "within_3_degrees", "nobody"] = Field(description=FINDABLE_BY)
    findable_by_email: bool = Field(description=FINDABLE_BY_EMAIL)
    decline_cooldown_days: int | None = Field(description=DECLINE_COOLDOWN_DAYS)
    recommendations_visible_to: Literal["only_me", "connections", "everyone"] = Field(
        description=RECOMMENDATIONS_VISIBLE_TO
    )
    created_at: datetime
    preset_offer: PresetOfferOut | None = Field(
        default=None,
        description="Only in the answer to a PATCH that changed `networking_stance`, when "
        "the policy preset matching the new stance is not the one you use: that preset, "
        "to apply by PUT to /v1/me/policy. Nothing changes until you do.",
    )


class SearchHitOut(ContactOut):
    """A member found by search."""

    company: str | None
    title: str | None
    market_area: str | None
    degree: int | None = Field(
        description="How many hops away they are, as GET /v1/members/{member_id}/degree "
        "says: 1, 2 or 3, null when no way you may see exists."
    )


class MeUpdateIn(Strict):
    """Fields a member may change about themselves; omitted fields stay as they are."""

    name: Name | None = None
    given_name: GivenName | None = Field(default=None, description=GIVEN_NAME)
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
    company: Company | None = None
    title: Title | None = None
    bio: Bio | None = None
    links: Links | None = None
    locale: Locale | None = None
    time_zone: TimeZone | None = None
    findable_by: Literal["everyone", "within_3_degrees", "nobody"] | None = Field(
        default=None, description=FINDABLE_BY
    )
    findable_by_email: bool | None = Field(default=None, description=FINDABLE_BY_EMAIL)
    decline_cooldown_days: int | None = Field(
        default=None, ge=1, le=3650, description=DECLINE_COOLDOWN_DAYS
    )
    recommendations_visible_to: Literal["only_me", "connections", "everyone"] | None = Field(
        default=None, description=RECOMMENDATIONS_VISIBLE_TO
    )
