"""Which kinds of notification a member may switch off, and how.

The API lists and changes the preferences; the notifier applies them when it stores and
sends. A kind in ``CHOICES`` may be switched off in the feed and by email; one that
``digestible`` may also be gathered in the daily digest. Urgent kinds are not: they
carry a deadline (a question that expires) or news that is stale a day later (an
integration that stopped). Every other kind is essential: the security and account
emails (verification, password, email change, export, deletion) are always sent and
always shown, whatever the preferences say, and carry no unsubscribe link.
"""

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from rapport_common.models.enums import EmailDelivery


class NotificationKind(StrEnum):
    """Every kind of notification stored for a member: one table each in the notifier's
    catalogue (``services/notifier/notifications/catalogue``); the API's feed types each
    kind's ``data`` (``services/api/notifications/schemas.py``)."""

    INVITATION_RECEIVED = "invitation_received"
    INVITATION_ACCEPTED = "invitation_accepted"
    INVITATION_DECLINED = "invitation_declined"
    QUESTION_ASKED = "question_asked"
    QUESTION_ANSWERED = "question_answered"
    INVITATION_BACK = "invitation_back"
    REFERRAL_REQUESTED = "referral_requested"
    REFERRAL_OUTCOME = "referral_outcome"
    REFERRAL_FALSE_CLAIM = "referral_false_claim"
    INTRODUCTION_REQUESTED = "introduction_requested"
    INTRODUCTION_FORWARDED = "introduction_forwarded"
    INTRODUCTION_DECLINED = "introduction_declined"
    INTRODUCTION_ACCEPTED = "introduction_accepted"
    RECOMMENDATION_REQUESTED = "recommendation_requested"
    RECOMMENDATION_APPROVED = "recommendation_approved"
    NUDGE = "nudge"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"
    EXPORT_READY = "export_ready"
    DIGEST = "digest"


# The daily digest is itself a notification of this kind: emailed, never in the feed.
DIGEST = NotificationKind.DIGEST
# The one entry the preferences list for every essential kind.
ESSENTIAL = "account"
ESSENTIAL_LABEL = "Security and account emails (sign-in, password, email address, your data)"


@dataclass(frozen=True)
class Choice:
    label: str
    digestible: bool

    @property
    def email_options(self) -> tuple[EmailDelivery, ...]:
        if self.digestible:
            return (EmailDelivery.INSTANT, EmailDelivery.DIGEST, EmailDelivery.OFF)
        return (EmailDelivery.INSTANT, EmailDelivery.OFF)


CHOICES = MappingProxyType(
    {
        "invitation_received": Choice("Someone invites me to connect", digestible=True),
        "invitation_accepted": Choice("Someone accepts my invitation", digestible=True),
        "invitation_declined": Choice(
            "Someone declines my invitation with a note", digestible=True
        ),
        "question_asked": Choice("Someone asks me a question before connecting", digestible=False),
        "question_answered": Choice("Someone answers my question", digestible=True),
        "invitation_back": Choice("An invitation I put off is back", digestible=True),
        "referral_requested": Choice("Someone says I suggested they connect", digestible=True),
        "referral_outcome": Choice(
            "A referral I was told of is confirmed or denied", digestible=True
        ),
        "referral_false_claim": Choice(
            "An invitation names a false mutual friend", digestible=True
        ),
        "introduction_requested": Choice("Someone asks me for an introduction", digestible=True),
        "introduction_forwarded": Choice("Someone introduces me to a member", digestible=True),
        "introduction_declined": Choice("An introduction I asked for is declined", digestible=True),
        "introduction_accepted": Choice("An introduction is accepted", digestible=True),
        "recommendation_requested": Choice(
            "Someone writes a recommendation of me", digestible=True
        ),
        "recommendation_approved": Choice("A recommendation I wrote is approved", digestible=True),
        "nudge": Choice("Reminders to reconnect with a fading relationship", digestible=True),
        "webhook_endpoint_disabled": Choice(
            "One of my webhook endpoints is disabled", digestible=False
        ),
    }
)


def is_switchable(kind: str) -> bool:
    return kind in CHOICES


@dataclass(frozen=True)
class Applied:
    """What a member's preference makes of one notification of a kind."""

    in_feed: bool
    email: EmailDelivery


def apply(kind: str, email: EmailDelivery | None, in_app: bool | None) -> Applied:
    """The stored preference (``None``: none stored) for ``kind``, within what the kind
    allows: an essential kind is always shown and emailed at once, and a preference
    that the kind no longer allows (the digest for a kind made urgent) counts as
    emailing at once."""
    choice = CHOICES.get(kind)
    if choice is None:
        return Applied(in_feed=True, email=EmailDelivery.INSTANT)
    chosen = email if email is not None and email in choice.email_options else None
    return Applied(
        in_feed=True if in_app is None else in_app, email=chosen or EmailDelivery.INSTANT
    )


def has_unsubscribe(kind: str) -> bool:
    """Whether emails of ``kind`` carry the links that change or stop them: every kind
    a member may switch off, and the digest (stopping it stops every kind it gathers)."""
    return kind in CHOICES or kind == DIGEST
