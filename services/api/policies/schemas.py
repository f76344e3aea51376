"""A linking policy: ordered rules that turn an incoming invitation into a suggestion."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from rapport_common.events import HowWeMet
from rapport_common.web.inputs import validating_stored
from services.api.policies.templates import template_error
from services.api.schemas import NOTE_MAX_LENGTH, MultiLine, SingleLine, Strict

ReferralStatus = Literal["none", "unverified", "confirmed", "denied", "false_claim"]


class Conditions(Strict):
    """All given conditions must hold; an empty set always matches."""

    how_we_met_in: list[HowWeMet] | None = Field(default=None, min_length=1, max_length=7)
    inviter_is_recruiter: bool | None = None
    same_market_area: bool | None = None
    min_mutual_connections: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="At least this many mutual connections with the inviter: members we "
        "both know who allow introductions, counted only if the inviter lets ways to them "
        "be seen (reachable_by everyone or second_degree)",
    )
    min_mutual_strength: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Count only mutuals I rate at least this (my own effective rating / 10; "
        "their rating of me never counts)",
    )
    referral_status_in: list[ReferralStatus] | None = Field(
        default=None,
        min_length=1,
        max_length=5,
        description="The referral as my policy sees it: a claim reads as unverified until "
        "the referrer answers (confirmed or denied), whether or not they know me, so the "
        "sender learns nothing about the referrer's connections from what my policy does; "
        "a false_claim shows on the invitation but never reaches the policy",
    )
    question_answered: bool | None = None


def _type_required(schema: dict[str, Any]) -> None:
    # The actions are told apart by ``type``: a body without it is refused, so the
    # schema requires it, though code building an action may leave it to the default.
    required = schema.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")


class ActionBase(Strict):
    model_config = ConfigDict(json_schema_extra=_type_required)


class AcceptAction(ActionBase):
    type: Literal["accept"] = "accept"


class DeclineAction(ActionBase):
    type: Literal["decline"] = "decline"
    note_template: MultiLine = Field(
        min_length=1,
        max_length=NOTE_MAX_LENGTH,
        description="May use {inviter_first_name} and {my_first_name}, as bare names "
        "(no format spec or conversion); `{{` and `}}` write a brace",
    )

    @field_validator("note_template")
    @classmethod
    def _bare_placeholders(cls, template: str, info: ValidationInfo) -> str:
        # A stored template that breaks the rule is replaced when it is rendered.
        error = None if validating_stored(info) else template_error(template)
        if error is not None:
            raise ValueError(error)
        return template


class LaterAction(ActionBase):
    type: Literal["later"] = "later"
    days: int = Field(default=7, ge=1, le=90)


class AskAction(ActionBase):
    type: Literal["ask"] = "ask"
    question: MultiLine = Field(min_length=1, max_length=500)


Action = Annotated[
    AcceptAction | DeclineAction | LaterAction | AskAction, Field(discriminator="type")
]


class Rule(Strict):
    name: SingleLine = Field(min_length=1, max_length=80)
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


# What ``Suggestion.rule`` says when no rule matched and ``otherwise`` applied.
FALLBACK_RULE = "otherwise"


class Suggestion(BaseModel):
    action: Action
    rule: str = Field(
        description="The matching rule's name; `otherwise` when no rule matched (see "
        "`matched`), `introduction` for an introduction I accepted"
    )
    matched: bool = Field(
        description="false: no rule matched and `otherwise` applied (then `rule` is "
        "`otherwise`); tells that apart from a rule of mine named `otherwise`"
    )
    automatic: bool
    reasons: list[str]

    @model_validator(mode="before")
    @classmethod
    def _fallback_stored_as_null(cls, data: Any) -> Any:
        # Suggestions stored before ``matched`` existed wrote the fallback as a null rule.
        if isinstance(data, dict) and "matched" not in data:
            data = {**data, "matched": data.get("rule") is not None}
            if data.get("rule") is None:
                data["rule"] = FALLBACK_RULE
        return data


class EvaluateIn(Strict):
    """A hypothetical invitation to try my policy on."""

    how_we_met: HowWeMet
    inviter_is_recruiter: bool = False
    same_market_area: bool = False
    mutual_strengths: list[float] = Field(
        default_factory=list,
        max_length=1000,
        description="My own effective rating / 10 of each mutual connection (0-1)",
    )
    referral_status: ReferralStatus = "none"
    question_answered: bool = False


class PresetOut(BaseModel):
    name: str
    description: str
    policy: PolicyIn
