"""Schema bases every domain's API shares."""

import uuid
from typing import Annotated, Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Strict as StrictType

from rapport_common.models.members import Member
from rapport_common.web.inputs import (
    STORED,
    AwareInstant,
    Instant,
    MultiLine,
    OpaqueText,
    SingleLine,
)

__all__ = [
    "NOTE_MAX_LENGTH",
    "AwareInstant",
    "ContactOut",
    "IdIn",
    "Instant",
    "MultiLine",
    "OpaqueText",
    "SingleLine",
    "Strict",
    "from_storage",
]

Model = TypeVar("Model", bound=BaseModel)

# Every note a member writes, and every note rendered for them from a template.
NOTE_MAX_LENGTH = 1000


class Strict(BaseModel):
    """Input: unknown fields are refused, so none can be set by mass assignment; and
    values are taken as the schema types them, never coerced: `0`, `1` or `"yes"` is
    not a boolean, `"5"` or `true` not an integer. FastAPI hands the parsed JSON over as
    Python values, so text-borne types (ids, moments) opt out of strictness themselves
    (``IdIn``, ``Instant``), and take text only."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _whole_numbers_as_integers(cls, data: Any) -> Any:
        # JSON has one number type and JSON Schema counts 45.0 as an integer, so a
        # client (or its generator) may send one: it is 45. A float field takes it too.
        if not isinstance(data, dict):
            return data
        return {
            key: int(value) if isinstance(value, float) and value.is_integer() else value
            for key, value in data.items()
        }


# An id in a request body: a UUID written as text.
IdIn = Annotated[uuid.UUID, StrictType(False)]


def from_storage(model: type[Model], document: Any) -> Model:
    """``model`` from a document this API stored itself: rules on text added since it was
    written (control characters, template fields) do not make it unreadable."""
    return model.model_validate(document, context=STORED)


class ContactOut(BaseModel):
    """A member in someone else's network, as I may see it."""

    member_id: uuid.UUID
    name: str
    headline: str | None

    @classmethod
    def from_member(cls, member: Member, **extra: Any) -> Self:
        """The card of ``member``; ``extra`` fills the fields a subclass adds."""
        return cls(member_id=member.id, name=member.name, headline=member.headline, **extra)
