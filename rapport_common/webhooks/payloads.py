"""The outbound webhook contract: each event type a partner can subscribe to, and its
``data``. Every body is ``{"type": ..., "timestamp": ..., "data": {...}}``.

Each payload is written for the member who owns the endpoint: ``member_id`` is always the
*other* member, and a rating is only ever the owner's own.
"""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from rapport_common.events import HowWeMet

WebhookEventType = Literal[
    "invitation.received",
    "invitation.accepted",
    "invitation.declined",
    "connection.created",
    "connection.removed",
    "introduction.requested",
    "introduction.forwarded",
    "introduction.declined",
    "introduction.accepted",
    "recommendation.requested",
    "recommendation.approved",
]


class InvitationReceivedData(BaseModel):
    """Someone invited me to connect."""

    invitation_id: uuid.UUID
    member_id: uuid.UUID = Field(description="The inviter")
    how_we_met: HowWeMet
    referrer_id: uuid.UUID | None = Field(description="Who the inviter says suggested it")


class InvitationAcceptedData(BaseModel):
    """My invitation was accepted: we are connected."""

    invitation_id: uuid.UUID
    member_id: uuid.UUID = Field(description="The invitee")


class InvitationDeclinedData(BaseModel):
    """My invitation was declined, with the invitee's note to me."""

    invitation_id: uuid.UUID
    member_id: uuid.UUID = Field(description="The invitee")
    note: str


class ConnectionCreatedData(BaseModel):
    """A new connection. Only my own rating is ever included, never the other side's."""

    member_id: uuid.UUID = Field(description="The member I am now connected to")
    how_we_met: HowWeMet
    connected_at: datetime
    my_rating: int | None = Field(ge=1, le=10, description="My private 1-10 rating, if given")


class ConnectionRemovedData(BaseModel):
    member_id: uuid.UUID = Field(description="The member I am no longer connected to")
    removed_by: uuid.UUID = Field(description="Who removed it: me or them")
    removed_at: datetime


IntroductionRole = Literal["requester", "intermediary", "target"]


class IntroductionData(BaseModel):
    """An introduction I take part in, and my role in it."""

    introduction_id: uuid.UUID
    requester_id: uuid.UUID
    intermediary_id: uuid.UUID
    target_id: uuid.UUID
    my_role: IntroductionRole


class IntroductionDeclinedData(IntroductionData):
    declined_by: Literal["intermediary", "target"]


class IntroductionAcceptedData(IntroductionData):
    invitation_id: uuid.UUID = Field(description="The requester's invitation it created")


class RecommendationData(BaseModel):
    """A recommendation between me and another member; its text is in the API."""

    recommendation_id: uuid.UUID
    member_id: uuid.UUID = Field(
        description="The other member: the author of one written of me, the subject of mine"
    )


WEBHOOK_DATA: dict[str, type[BaseModel]] = {
    "invitation.received": InvitationReceivedData,
    "invitation.accepted": InvitationAcceptedData,
    "invitation.declined": InvitationDeclinedData,
    "connection.created": ConnectionCreatedData,
    "connection.removed": ConnectionRemovedData,
    "introduction.requested": IntroductionData,
    "introduction.forwarded": IntroductionData,
    "introduction.declined": IntroductionDeclinedData,
    "introduction.accepted": IntroductionAcceptedData,
    "recommendation.requested": RecommendationData,
    "recommendation.approved": RecommendationData,
}

WEBHOOK_DESCRIPTIONS: dict[str, str] = {
    "invitation.received": "Sent to the invitee when someone invites them.",
    "invitation.accepted": "Sent to the inviter when their invitation is accepted.",
    "invitation.declined": "Sent to the inviter when their invitation is declined, with the note.",
    "connection.created": "Sent to both members, each with their own rating only.",
    "connection.removed": "Sent to both members when either removes the connection.",
    "introduction.requested": "Sent to the requester and the intermediary (not yet the target).",
    "introduction.forwarded": "Sent to all three once the intermediary forwards it.",
    "introduction.declined": "Sent to those who knew of it: the target only if it was forwarded.",
    "introduction.accepted": "Sent to all three when the target accepts.",
    "recommendation.requested": "Sent to the subject when a recommendation of them is written "
    "or edited, to approve.",
    "recommendation.approved": "Sent to the author when the subject approves their recommendation.",
}


def _envelope(event_type: str, data: type[BaseModel]) -> type[BaseModel]:
    # A Literal built at runtime, so each body documents its own "type" value.
    type_literal: Any = Literal[event_type]
    name = "".join(part.title() for part in event_type.replace(".", "_").split("_")) + "Webhook"
    return create_model(
        name,
        __doc__=WEBHOOK_DESCRIPTIONS[event_type],
        type=(type_literal, ...),
        timestamp=(datetime, Field(description="When the change happened (ISO 8601, UTC)")),
        data=(data, ...),
    )


# The whole body of each webhook, for the OpenAPI document.
WEBHOOK_BODIES: dict[str, type[BaseModel]] = {
    event_type: _envelope(event_type, data) for event_type, data in WEBHOOK_DATA.items()
}
