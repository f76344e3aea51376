"""Event contracts: what the API publishes through the outbox, versioned.

Each event type has a payload model; consumers validate against the version they
receive, so a payload can grow (new optional fields) without a new version, and a
breaking change gets ``version + 1`` alongside the old one.
"""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class EventEnvelope(BaseModel):
    """How an event travels from the outbox to its consumers."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    # The outbox's global order: consumers ignore an event older than what they hold.
    sequence: int
    type: str
    version: int
    occurred_at: datetime
    request_id: str | None = None
    payload: dict[str, Any]


ConnectionsVisibleTo = Literal["only_me", "connections", "everyone"]
ReachableBy = Literal["everyone", "second_degree", "nobody"]


class MemberRegisteredV1(BaseModel):
    member_id: UUID
    name: str
    is_recruiter: bool = False
    allows_introductions: bool = True
    # The privacy settings the graph applies (docs/privacy.md); absent from events
    # written before they were carried, which then mean the defaults.
    connections_visible_to: ConnectionsVisibleTo = "connections"
    reachable_by: ReachableBy = "everyone"


class MemberUpdatedV1(BaseModel):
    member_id: UUID
    name: str
    is_recruiter: bool
    allows_introductions: bool
    connections_visible_to: ConnectionsVisibleTo = "connections"
    reachable_by: ReachableBy = "everyone"


HowWeMet = Literal[
    "coffee", "meal", "beer", "event", "worked_together", "known_online", "never_met"
]
InteractionKind = Literal["coffee", "meal", "beer", "call", "message", "event"]

# How "how we met" reads in a sentence: in a policy's reasons and in notifications.
HOW_WE_MET_PHRASES: dict[str, str] = {
    "coffee": "you met over coffee",
    "meal": "you shared a meal",
    "beer": "you had a beer together",
    "event": "you met at an event",
    "worked_together": "you worked together",
    "known_online": "you know each other well online",
    "never_met": "you have never met",
}


class ConnectionCreatedV1(BaseModel):
    """Two members are connected. A rating is the rater's private 1-10 score of the
    other; ``None`` until that side rates."""

    inviter_id: UUID
    invitee_id: UUID
    inviter_rating: int | None = Field(default=None, ge=1, le=10)
    invitee_rating: int | None = Field(default=None, ge=1, le=10)
    how_we_met: HowWeMet
    connected_at: datetime


class ConnectionRatedV1(BaseModel):
    """``rater_id`` re-rated their side of the connection with ``ratee_id``."""

    rater_id: UUID
    ratee_id: UUID
    rating: int = Field(ge=1, le=10)


class ConnectionRemovedV1(BaseModel):
    member_id: UUID
    other_member_id: UUID
    removed_at: datetime


class InteractionLoggedV1(BaseModel):
    """A meeting or exchange between two connected members; refreshes their strength."""

    member_id: UUID
    other_member_id: UUID
    kind: InteractionKind
    occurred_at: datetime


class InvitationEventV1(BaseModel):
    """Common to every ``invitation.*`` event."""

    invitation_id: UUID
    inviter_id: UUID
    invitee_id: UUID


class InvitationSentV1(InvitationEventV1):
    how_we_met: HowWeMet
    referrer_id: UUID | None = None


class InvitationDeclinedV1(InvitationEventV1):
    """The note goes to the inviter: the invitee's own words or their policy's template."""

    note: str
    automatic: bool = False


class InvitationDeferredV1(InvitationEventV1):
    until: datetime
    automatic: bool = False


class InvitationQuestionAskedV1(InvitationEventV1):
    question: str
    expires_at: datetime
    automatic: bool = False


class InvitationReportedV1(InvitationEventV1):
    reason: Literal["dont_know", "spam", "false_referral"]


class InvitationAcceptedV1(InvitationEventV1):
    automatic: bool = False


class EmailInvitationSentV1(BaseModel):
    """A member invited an email address. Carries no address and nothing that says
    whether it belongs to a member; the notifier reads the row to send a join email."""

    email_invitation_id: UUID
    inviter_id: UUID


class ReferralEventV1(InvitationEventV1):
    """``referral.requested`` asks the referrer to confirm; the others are outcomes."""

    referrer_id: UUID


class IntroductionEventV1(BaseModel):
    """Common to every ``introduction.*`` event."""

    introduction_id: UUID
    requester_id: UUID
    intermediary_id: UUID
    target_id: UUID


class IntroductionDeclinedV1(IntroductionEventV1):
    declined_by: Literal["intermediary", "target"]


class IntroductionAcceptedV1(IntroductionEventV1):
    invitation_id: UUID


class RecommendationEventV1(BaseModel):
    """Common to every ``recommendation.*`` event; the text stays in PostgreSQL."""

    recommendation_id: UUID
    author_id: UUID
    subject_id: UUID


class MemberDeletedV1(BaseModel):
    """The member deleted their account: the graph removes them and every link and
    rating they had. Ids only, as every trace of the member is being erased."""

    member_id: UUID


class BlockEventV1(BaseModel):
    """``blocker_id`` blocked (or unblocked) ``blocked_id``. No consumer: the blocked
    member is never told."""

    blocker_id: UUID
    blocked_id: UUID


class ExportRequestedV1(BaseModel):
    """A member asked for a copy of their data; the notifier builds it. Ids only: the
    archive is read from PostgreSQL when the event is handled."""

    export_id: UUID
    member_id: UUID


class AccountEmailRequestedV1(BaseModel):
    """An account email is due: the notifier makes its link's token (only its hash is
    stored) and sends it. Ids only: the address and the token stay out of the outbox."""

    account_token_id: UUID
    member_id: UUID


# Every account email's event; the notifier's ``account_emails`` consumer sends them.
ACCOUNT_EMAIL_EVENT_TYPES = frozenset(
    {
        "account.email_verification_requested",
        "account.password_reset_requested",
        "account.email_change_requested",
        "account.email_changed",
    }
)


EVENT_PAYLOADS: dict[tuple[str, int], type[BaseModel]] = {
    ("invitation.sent", 1): InvitationSentV1,
    ("invitation.accepted", 1): InvitationAcceptedV1,
    ("invitation.declined", 1): InvitationDeclinedV1,
    ("invitation.deferred", 1): InvitationDeferredV1,
    ("invitation.question_asked", 1): InvitationQuestionAskedV1,
    ("invitation.answered", 1): InvitationEventV1,
    ("invitation.withdrawn", 1): InvitationEventV1,
    ("invitation.reported", 1): InvitationReportedV1,
    ("invitation.expired", 1): InvitationEventV1,
    ("invitation.declined_quietly", 1): InvitationEventV1,
    ("email_invitation.sent", 1): EmailInvitationSentV1,
    ("referral.requested", 1): ReferralEventV1,
    ("referral.confirmed", 1): ReferralEventV1,
    ("referral.denied", 1): ReferralEventV1,
    ("referral.false_claim", 1): ReferralEventV1,
    ("introduction.requested", 1): IntroductionEventV1,
    ("introduction.forwarded", 1): IntroductionEventV1,
    ("introduction.declined", 1): IntroductionDeclinedV1,
    ("introduction.accepted", 1): IntroductionAcceptedV1,
    ("member.registered", 1): MemberRegisteredV1,
    ("member.updated", 1): MemberUpdatedV1,
    ("member.deleted", 1): MemberDeletedV1,
    ("connection.created", 1): ConnectionCreatedV1,
    ("connection.rated", 1): ConnectionRatedV1,
    ("connection.removed", 1): ConnectionRemovedV1,
    ("interaction.logged", 1): InteractionLoggedV1,
    ("introduction.closed", 1): IntroductionDeclinedV1,
    ("recommendation.requested", 1): RecommendationEventV1,
    ("recommendation.approved", 1): RecommendationEventV1,
    ("recommendation.declined", 1): RecommendationEventV1,
    ("recommendation.hidden", 1): RecommendationEventV1,
    ("recommendation.shown", 1): RecommendationEventV1,
    ("recommendation.withdrawn", 1): RecommendationEventV1,
    ("block.created", 1): BlockEventV1,
    ("block.removed", 1): BlockEventV1,
    ("export.requested", 1): ExportRequestedV1,
    **{(event_type, 1): AccountEmailRequestedV1 for event_type in ACCOUNT_EMAIL_EVENT_TYPES},
}


# The events the graph projects: the notifier hands exactly these to the graph service,
# whose projection has one handler for each.
GRAPH_EVENT_TYPES = frozenset(
    {
        "member.registered",
        "member.updated",
        "member.deleted",
        "connection.created",
        "connection.rated",
        "connection.removed",
        "interaction.logged",
    }
)


def parse_payload(envelope: EventEnvelope) -> BaseModel:
    """Validate an envelope's payload against its documented schema."""
    schema = EVENT_PAYLOADS.get((envelope.type, envelope.version))
    if schema is None:
        raise LookupError(f"unknown event {envelope.type} v{envelope.version}")
    return schema.model_validate(envelope.payload)
