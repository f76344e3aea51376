"""Schema bases every domain's API shares."""

import uuid
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from rapport_common.models.members import Member


class Strict(BaseModel):
    """Input: unknown fields are refused, so none can be set by mass assignment."""

    model_config = ConfigDict(extra="forbid")


class ContactOut(BaseModel):
    """A member in someone else's network, as I may see it."""

    member_id: uuid.UUID
    name: str
    headline: str | None

    @classmethod
    def from_member(cls, member: Member, **extra: Any) -> Self:
        """The card of ``member``; ``extra`` fills the fields a subclass adds."""
        return cls(member_id=member.id, name=member.name, headline=member.headline, **extra)
