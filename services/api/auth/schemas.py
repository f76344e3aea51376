import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from services.api.schemas import SingleLine, Strict


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str = Field(description="Trade it at /v1/auth/refresh for a new pair")


class RefreshIn(Strict):
    refresh_token: SingleLine = Field(min_length=10, max_length=200)


class SessionOut(BaseModel):
    """One sign-in: every token refreshed from it belongs to it."""

    session_id: uuid.UUID
    device: str | None = Field(description="From the User-Agent that signed in")
    created_at: datetime = Field(description="When this sign-in happened")
    last_used_at: datetime = Field(description="When its tokens were last issued or refreshed")
    current: bool = Field(description="The sign-in of the access token of this request")


class SessionsOut(BaseModel):
    items: list[SessionOut]
