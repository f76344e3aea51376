import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, model_validator

from rapport_common.events import HowWeMet
from services.api.policies.schemas import ReferralStatus, Suggestion
from services.api.schemas import NOTE_MAX_LENGTH, IdIn, MultiLine, Strict

Rating = Field(ge=1, le=10, description="Your private 1-10 rating of the other member")
Status = Literal[
    "pending", "deferred", "awaiting_answer", "accepted", "declined", "withdrawn", "expired"
]


class InvitationIn(Strict):
    """Give exactly one of ``to_member_id`` and ``to_email``."""

    to_member_id: IdIn | None = None
    to_email: EmailStr | None = Field(
        default=None,
        max_length=254,
        description="Invite by address instead: a member found by that exact address (who "
        "allows it) gets an ordinary invitation, anyone else one email with a link to join. "
        "You are never told which; the answer is the same. Not with "
        "referred_by_member_id or my_rating.",
    )
    note: MultiLine = Field(min_length=1, max_length=NOTE_MAX_LENGTH)
    how_we_met: HowWeMet
    referred_by_member_id: IdIn | None = None
    my_rating: int | None = Field(default=None, ge=1, le=10, description="Rate them at once")

    @model_validator(mode="after")
    def _one_recipient(self) -> "InvitationIn":
        if (self.to_member_id is None) == (self.to_email is None):
            raise ValueError("give exactly one of to_member_id and to_email")
        if self.to_email is not None and (
            self.referred_by_member_id is not None or self.my_rating is not None
        ):
            # Either would be checked against a member the sender must not learn of.
            raise ValueError("an invitation by email takes no referred_by_member_id or my_rating")
        return self


class InvitationCreatedOut(BaseModel):
    invitation_id: uuid.UUID
    status: Status


EmailInvitationStatus = Literal["sent", "accepted", "expired", "withdrawn"]
EMAIL_STATUS = (
    "sent until it expires; accepted once the invitation it became (for a member, or "
    "for whoever registers with the address) was accepted; a decline is never shown"
)


class EmailInvitationCreatedOut(BaseModel):
    """The answer to an invitation by email, the same whoever the address belongs to."""

    email_invitation_id: uuid.UUID
    status: Literal["sent"]


class EmailInvitationOut(BaseModel):
    email_invitation_id: uuid.UUID
    email: str | None = Field(description="As you typed it (normalised)")
    created_at: datetime
    expires_at: datetime
    status: EmailInvitationStatus = Field(description=EMAIL_STATUS)


class InvitationAcceptIn(Strict):
    rating: int = Rating
    how_we_met: HowWeMet | None = Field(default=None, description="Defaults to the inviter's")


class DeclineIn(Strict):
    note: MultiLine | None = Field(
        default=None,
        min_length=1,
        max_length=NOTE_MAX_LENGTH,
        description="Your own note; without it, your policy's template is used",
    )


class LaterIn(Strict):
    days: int | None = Field(default=None, ge=1, le=90, description="Defaults to your policy's")


class AskIn(Strict):
    question: MultiLine = Field(min_length=1, max_length=500)


class AnswerIn(Strict):
    answer: MultiLine = Field(min_length=1, max_length=1000)


class ReportIn(Strict):
    reason: Literal["dont_know", "spam", "false_referral"]


class ReferralIn(Strict):
    confirm: bool = Field(description="True: I did suggest this; false: I did not")


class MemberSummary(BaseModel):
    member_id: uuid.UUID
    name: str
    headline: str | None


class ReferralOut(BaseModel):
    referrer_id: uuid.UUID | None
    status: ReferralStatus


class InvitationOut(BaseModel):
    """An invitation as one of its two members sees it."""

    invitation_id: uuid.UUID
    my_role: Literal["inviter", "invitee"]
    inviter: MemberSummary
    invitee: MemberSummary
    note: str
    how_we_met: HowWeMet
    status: Status
    created_at: datetime
    closed_at: datetime | None
    question: str | None
    question_expires_at: datetime | None
    answer: str | None
    later_until: datetime | None
    decline_note: str | None
    introduced: bool = Field(description="Created from an introduction")
    referral: ReferralOut | None = Field(description="Shown to the invitee only")
    suggestion: Suggestion | None = Field(description="My policy's suggestion; invitee only")
    my_rating: int | None = Field(description="Inviter only: the rating given when sending")
