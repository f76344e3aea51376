import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.api.schemas import NOTE_MAX_LENGTH, ContactOut, IdIn, MultiLine, Strict


class IntroductionIn(Strict):
    intermediary_id: IdIn = Field(description="My connection who knows the target")
    target_id: IdIn
    note: MultiLine = Field(
        min_length=1, max_length=NOTE_MAX_LENGTH, description="Why I would like to meet"
    )


class ForwardIn(Strict):
    note: MultiLine = Field(
        min_length=1, max_length=NOTE_MAX_LENGTH, description="My words to the target"
    )


class IntroductionAcceptIn(Strict):
    rating: int | None = Field(
        default=None,
        ge=1,
        le=10,
        description="My private 1-10 rating of the requester; given, we are connected at once",
    )


class IntroductionOut(BaseModel):
    introduction_id: uuid.UUID
    my_role: Literal["requester", "intermediary", "target"]
    requester: ContactOut
    intermediary: ContactOut
    target: ContactOut
    status: Literal["requested", "forwarded", "declined", "accepted"]
    declined_by: Literal["intermediary", "target"] | None
    note: str | None = Field(description="The requester's note; not shown to the target")
    intermediary_note: str | None
    invitation_id: uuid.UUID | None = Field(description="Created when the target accepts")
    created_at: datetime
