import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from rapport_common.events import HowWeMet
from services.api.schemas import ContactOut, MultiLine, Strict

RECOMMENDATION_MAX_LENGTH = 2000
RecommendationStatus = Literal["requested", "approved", "hidden", "declined", "withdrawn"]
# The conditions a recommendation must meet, as ``unmet`` names them in a 422.
Condition = Literal["connection_age", "my_rating", "met_in_person", "connections_visible"]


class RecommendationIn(Strict):
    body: MultiLine = Field(
        min_length=1,
        max_length=RECOMMENDATION_MAX_LENGTH,
        description="What I can say of them from working or meeting with them",
    )


class RecommendationOut(BaseModel):
    """A recommendation I wrote or received."""

    recommendation_id: uuid.UUID
    author: ContactOut
    subject: ContactOut
    body: str
    status: RecommendationStatus = Field(
        description="requested: waiting for the subject; approved: shown on their profile; "
        "hidden: approved, then hidden by the subject; declined or withdrawn: closed"
    )
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None


class HowWeKnowOut(BaseModel):
    how_we_met: HowWeMet
    since_year: int = Field(description="The year the two connected")


class PublicRecommendationOut(BaseModel):
    """An approved recommendation, as the subject's profile shows it. Never a rating."""

    recommendation_id: uuid.UUID
    author: ContactOut
    body: str
    how_we_know: HowWeKnowOut
    approved_at: datetime
