from pydantic import Field

from services.api.schemas import OpaqueText, Strict


class DeleteAccountIn(Strict):
    password: OpaqueText = Field(
        min_length=1,
        max_length=256,
        description="My current password, to confirm that it is me (and not someone with "
        "a stolen access token) deleting the account",
    )
