"""A linking policy: ordered rules that turn an incoming invitation into a suggestion."""

import string
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from rapport_common.events import HowWeMet
from services.api.schemas import Strict

ReferralStatus = Literal["none", "unverified", "confirmed", "denied", "false_claim"]
TEMPLATE_FIELDS = frozenset({"inviter_first_name", "my_first_name"})


class Conditions(Strict):
    """All given conditions must hold; an empty set always matches."""

    how_we_met_in: list[HowWeMet] | None = Field(default=None, min_length=1, max_length=7)
    inviter_is_recruiter: bool | None = None
    same_market_area: bool | None = None
    min_mutual_connections: int | None = Field(default=None, ge=0, le=1000)
    min_mutual_strength: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Count only mutuals whose link strength with me is at least this",
    )
    referral_status_in: list[ReferralStatus] | None = Field(
        default=None, min_length=1, max_length=5
    )
    question_answered: bool | None = None


class AcceptAction(Strict):
    type: Literal["accept"] = "accept"


class DeclineAction(Strict):
    type: Literal["decline"] = "decline"
    note_template: str = Field(
        min_length=1,
        max_length=1000,
        description="May use {inviter_first_name} and {my_first_name}",
    )

    @field_validator("note_template")
    @classmethod
    def _known_placeholders(cls, template: str) -> str:
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        except ValueError as exc:
            raise ValueError(f"the note template is malformed: {exc}") from exc
        unknown = fields - TEMPLATE_FIELDS
        if unknown:
            raise ValueError(
                f"unknown placeholders {sorted(unknown)}; use {{inviter_first_name}} "
                "or {my_first_name}"
            )
        return template


class LaterAction(Strict):
    type: Literal["later"] = "later"
    days: int = Field(default=7, ge=1, le=90)


class AskAction(Strict):
    type: Literal["ask"] = "ask"
    question: str = Field(min_length=1, max_length=500)


Action = Annotated[
    AcceptAction | DeclineAction | LaterAction | AskAction, Field(discriminator="type")
]


class Rule(Strict):
    name: str = Field(min_length=1, max_length=80)
    when: Conditions = Conditions()
    then: Action
    automatic: bool = Field(default=False, description="Apply the action without asking me")


class PolicyIn(Strict):
    rules: list[Rule] = Field(max_length=50)
    otherwise: Action = Field(description="What happens when no rule matches")
    otherwise_automatic: bool = False


class PolicyOut(PolicyIn):
    preset: str | None
    version: int


class Suggestion(BaseModel):
    action: Action
    rule: str | None = Field(description="The matching rule's name; null for `otherwise`")
    automatic: bool
    reasons: list[str]


class EvaluateIn(Strict):
    """A hypothetical invitation to try my policy on."""

    how_we_met: HowWeMet
    inviter_is_recruiter: bool = False
    same_market_area: bool = False
    mutual_strengths: list[float] = Field(
        default_factory=list,
        max_length=1000,
        description="My link strength with each mutual connection (0-1)",
    )
    referral_status: ReferralStatus = "none"
    question_answered: bool = False


class PresetOut(BaseModel):
    name: str
    description: str
    policy: PolicyIn
