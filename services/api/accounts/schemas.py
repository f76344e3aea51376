from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from services.api.auth.password_rules import CurrentPassword, NewPassword
from services.api.schemas import Strict

# What the emailed links carry: 43 URL-safe characters today; room for longer ones. The
# alphabet leaves out every character SingleLine refuses; a plain str keeps the pattern
# in the OpenAPI document (pydantic drops one set around a validated type).
LinkToken = Annotated[
    str, StringConstraints(min_length=20, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
]
Email = Annotated[EmailStr, Field(max_length=254)]


class LinkIn(Strict):
    token: LinkToken = Field(description="The `token` of the link in the email")


class PasswordResetIn(Strict):
    token: LinkToken
    new_password: NewPassword


class PasswordChangeIn(Strict):
    current_password: CurrentPassword
    new_password: NewPassword


class PasswordResetRequestIn(Strict):
    email: Email


class EmailChangeIn(Strict):
    password: CurrentPassword = Field(description="Your current password")
    new_email: Email


class EmailSentOut(BaseModel):
    status: Literal["sent"] = "sent"
    detail: str = Field(description="What happens next, for a person to read")
