import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from services.api.invitations.availability import State
from services.api.members.schemas import MemberProfileOut


class InvitationStateOut(BaseModel):
    """Whether I may invite them now: what `POST /v1/invitations` would answer."""

    state: State = Field(
        description="connected; possible; sent (mine is open) or received (theirs is open); "
        "withdrawn_recently or declined_recently (not before `possible_from`); "
        "blocked_by_me"
    )
    invitation_id: uuid.UUID | None = Field(description="The open invitation: sent, received")
    possible_from: datetime | None = Field(
        description="withdrawn_recently, declined_recently: when I may invite them again; "
        "null with declined_recently means never"
    )


class CardOut(BaseModel):
    """What a profile page needs, in one call."""

    profile: MemberProfileOut
    degree: int | None = Field(
        description="As `GET /v1/members/{member_id}/degree`; null when not within reach "
        "or the graph is unavailable"
    )
    mutual_count: int | None = Field(
        description="How many mutual connections I may see (`/mutuals`); null when the "
        "graph is unavailable"
    )
    graph_available: bool = Field(
        description="False: the connection graph did not answer, degree and mutual_count "
        "are null; the rest is current"
    )
    invitation: InvitationStateOut
