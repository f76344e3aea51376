from pydantic import BaseModel, Field

from services.api.schemas import SingleLine, Strict


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str = Field(description="Trade it at /v1/auth/refresh for a new pair")


class RefreshIn(Strict):
    refresh_token: SingleLine = Field(min_length=10, max_length=200)
