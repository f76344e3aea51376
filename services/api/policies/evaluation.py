"""Evaluating a policy is a pure function of the invitation's facts."""

from dataclasses import dataclass

from rapport_common.events import HOW_WE_MET_PHRASES
from services.api.policies.schemas import FALLBACK_RULE, Conditions, PolicyIn, Suggestion


@dataclass(frozen=True)
class InvitationFacts:
    how_we_met: str
    inviter_is_recruiter: bool
    same_market_area: bool
    # My own effective rating / 10 of each mutual connection; None when the graph was
    # unavailable.
    mutual_strengths: list[float] | None
    referral_status: str
    question_answered: bool


def _check(conditions: Conditions, facts: InvitationFacts) -> tuple[bool, list[str]]:
    """Return whether every condition holds, and the reasons (why it matched, or why not)."""
    reasons: list[str] = []
    if conditions.how_we_met_in is not None:
        if facts.how_we_met not in conditions.how_we_met_in:
            return False, [f"{HOW_WE_MET_PHRASES[facts.how_we_met]}"]
        reasons.append(HOW_WE_MET_PHRASES[facts.how_we_met])
    if conditions.inviter_is_recruiter is not None:
        if facts.inviter_is_recruiter != conditions.inviter_is_recruiter:
            return False, []
        reasons.append(
            "the inviter is a recruiter"
            if facts.inviter_is_recruiter
            else "the inviter is not a recruiter"
        )
    if conditions.same_market_area is not None:
        if facts.same_market_area != conditions.same_market_area:
            return False, []
        reasons.append(
            "you work in the same market area"
            if facts.same_market_area
            else "you work in different market areas"
        )
    if conditions.min_mutual_connections is not None:
        if facts.mutual_strengths is None:
            return False, ["mutual connections could not be checked right now"]
        floor = conditions.min_mutual_strength or 0.0
        count = sum(1 for strength in facts.mutual_strengths if strength >= floor)
        if count < conditions.min_mutual_connections:
            return False, []
        qualifier = f" with strength at least {floor:g}" if floor else ""
        reasons.append(f"you share {count} mutual connection(s){qualifier}")
    if conditions.referral_status_in is not None:
        if facts.referral_status not in conditions.referral_status_in:
            return False, []
        reasons.append(f"the referral is {facts.referral_status.replace('_', ' ')}")
    if conditions.question_answered is not None:
        if facts.question_answered != conditions.question_answered:
            return False, []
        reasons.append(
            "your question was answered"
            if facts.question_answered
            else "your question has not been answered"
        )
    return True, reasons


def evaluate(policy: PolicyIn, facts: InvitationFacts) -> Suggestion:
    """The first matching rule wins; ``otherwise`` applies when none does."""
    for rule in policy.rules:
        matched, reasons = _check(rule.when, facts)
        if matched:
            return Suggestion(
                action=rule.then,
                rule=rule.name,
                matched=True,
                automatic=rule.automatic,
                reasons=reasons or ["the rule has no conditions"],
            )
    return Suggestion(
        action=policy.otherwise,
        rule=FALLBACK_RULE,
        matched=False,
        automatic=policy.otherwise_automatic,
        reasons=["no rule matched", HOW_WE_MET_PHRASES[facts.how_we_met]],
    )


def needs_mutuals(policy: PolicyIn) -> bool:
    return any(rule.when.min_mutual_connections is not None for rule in policy.rules)
