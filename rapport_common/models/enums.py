"""The closed sets of values the tables store, each backed by a CHECK constraint.

StrEnums, so a member compares equal to its string and serialises as that string: JSON
payloads and API responses carry the same values as before."""

from enum import StrEnum

from sqlalchemy import Enum


class NetworkingStance(StrEnum):
    CLOSED = "closed"
    SEMI_OPEN = "semi_open"
    OPEN = "open"


class ConnectionVisibility(StrEnum):
    ONLY_ME = "only_me"
    CONNECTIONS = "connections"
    EVERYONE = "everyone"


class Reachability(StrEnum):
    """Who may see a way (a path, a mutual connection, a degree) to a member."""

    EVERYONE = "everyone"
    SECOND_DEGREE = "second_degree"
    NOBODY = "nobody"


class FindableBy(StrEnum):
    """Who may find a member in search."""

    EVERYONE = "everyone"
    WITHIN_3_DEGREES = "within_3_degrees"
    NOBODY = "nobody"


class InvitationStatus(StrEnum):
    PENDING = "pending"
    DEFERRED = "deferred"
    AWAITING_ANSWER = "awaiting_answer"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


# Still waiting for the invitee (or, while a question is out, the inviter).
OPEN_INVITATION_STATUSES = (
    InvitationStatus.PENDING,
    InvitationStatus.DEFERRED,
    InvitationStatus.AWAITING_ANSWER,
)


class ReferralStatus(StrEnum):
    NONE = "none"
    UNVERIFIED = "unverified"
    CONFIRMED = "confirmed"
    DENIED = "denied"
    FALSE_CLAIM = "false_claim"


class ReportReason(StrEnum):
    DONT_KNOW = "dont_know"
    SPAM = "spam"
    FALSE_REFERRAL = "false_referral"


class IntroductionStatus(StrEnum):
    REQUESTED = "requested"
    FORWARDED = "forwarded"
    DECLINED = "declined"
    ACCEPTED = "accepted"


class IntroductionRole(StrEnum):
    REQUESTER = "requester"
    INTERMEDIARY = "intermediary"
    TARGET = "target"


class IntroductionDecliner(StrEnum):
    """The two roles that may decline an introduction."""

    INTERMEDIARY = "intermediary"
    TARGET = "target"


class RecommendationStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    HIDDEN = "hidden"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


# Waiting for the subject, or approved (shown or hidden): one at most per author and
# subject.
LIVE_RECOMMENDATION_STATUSES = (
    RecommendationStatus.REQUESTED,
    RecommendationStatus.APPROVED,
    RecommendationStatus.HIDDEN,
)


class WebhookMessageStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ExportStatus(StrEnum):
    """A data export: being built, downloadable, or past its download window (content
    deleted)."""

    PENDING = "pending"
    READY = "ready"
    EXPIRED = "expired"


class EmailDelivery(StrEnum):
    """How a kind of notification reaches a member by email: each on its own at once,
    gathered in the daily digest, or not at all."""

    INSTANT = "instant"
    DIGEST = "digest"
    OFF = "off"


def checked(values: type[StrEnum], column: str, length: int = 20) -> Enum:
    """A VARCHAR column limited to ``values`` by a CHECK constraint named after the column
    (``ck_<table>_<column>``). Not a native PostgreSQL enum, so every closed set is
    constrained the same way and changing one is a constraint swap in a migration."""
    return Enum(
        values,
        name=column,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=_values,
        validate_strings=True,
    )


def _values(values: type[StrEnum]) -> list[str]:
    return [member.value for member in values]
