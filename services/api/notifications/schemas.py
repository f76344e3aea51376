import uuid
import zoneinfo
from datetime import datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rapport_common.settings import DEFAULT_NUDGE_FADE
from services.api.schemas import SingleLine, Strict


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    notification_id: uuid.UUID = Field(validation_alias="id")
    kind: str
    subject: str
    body_text: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NudgeSettingsIn(Strict):
    enabled: bool = True
    min_fade: float = Field(
        default=DEFAULT_NUDGE_FADE,
        ge=0.5,
        le=9,
        description="Nudge when my effective rating has fallen this far below my rating",
    )
    quiet_start: time | None = Field(default=None, description="Local time, e.g. 21:00")
    quiet_end: time | None = Field(default=None, description="Local time, e.g. 08:00")
    time_zone: SingleLine = Field(
        default="UTC", max_length=64, description="IANA name, e.g. Europe/Paris"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}; use an IANA name") from exc
        return name

    @model_validator(mode="after")
    def _both_or_neither(self) -> "NudgeSettingsIn":
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("give both quiet_start and quiet_end, or neither")
        return self


class NudgeSettingsOut(NudgeSettingsIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")
