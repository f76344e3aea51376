from datetime import datetime

from pydantic import BaseModel, Field

from rapport_common.events import HowWeMet
from services.api.schemas import ContactOut


class JoinOut(BaseModel):
    """What a join link shows before registering: who invites, and their note."""

    inviter: ContactOut
    note: str
    how_we_met: HowWeMet
    expires_at: datetime = Field(
        description="Register with the invited address before this, passing the token as "
        "`join_token`, and the invitation is waiting for you"
    )
