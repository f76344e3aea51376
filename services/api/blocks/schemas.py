from datetime import datetime

from pydantic import BaseModel, Field

from services.api.schemas import ContactOut


class BlockedOut(BaseModel):
    """A member I blocked."""

    member: ContactOut
    blocked_at: datetime = Field(description="When I blocked them")
