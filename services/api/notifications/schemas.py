import uuid
import zoneinfo
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)

from rapport_common.domain import notification_kinds
from rapport_common.domain.notification_kinds import NotificationKind as Kind
from rapport_common.events import InteractionKind
from rapport_common.models.notifications import Notification, NudgeSettings
from rapport_common.settings import DEFAULT_NUDGE_FADE
from services.api.pagination import Page
from services.api.schemas import SingleLine, Strict

# What a notification's ``data`` holds, per kind: the ids the client opens it with. The
# notifier writes it as JSON (ids as text); it is typed here, as it is read.


class InvitationNotificationData(BaseModel):
    invitation_id: uuid.UUID = Field(description="GET /v1/invitations/{invitation_id}")


class InvitationAcceptedNotificationData(InvitationNotificationData):
    # Always in the answer, null where the stored data lacks it.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    member_id: uuid.UUID | None = Field(
        default=None,
        description="Who accepted: my new connection (null on notifications stored before "
        "it was recorded)",
    )


class IntroductionNotificationData(BaseModel):
    introduction_id: uuid.UUID = Field(description="GET /v1/introductions/{introduction_id}")


class RecommendationNotificationData(BaseModel):
    recommendation_id: uuid.UUID


class NudgeNotificationData(BaseModel):
    member_id: uuid.UUID = Field(description="The connection to get back in touch with")
    suggested_actions: list[InteractionKind] = Field(
        description="Ways to meet, to log as an interaction afterwards"
    )

    @field_validator("suggested_actions", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        # Nudges stored before the list was written as one carry "coffee,meal,call".
        return value.split(",") if isinstance(value, str) else value


class WebhookEndpointDisabledNotificationData(BaseModel):
    endpoint_id: uuid.UUID = Field(description="GET /v1/webhooks/endpoints/{endpoint_id}")
    reason: str = Field(description="Why the deliveries stopped")


class ExportReadyNotificationData(BaseModel):
    export_id: uuid.UUID = Field(description="GET /v1/me/exports/{export_id}")


class DigestNotificationData(BaseModel):
    count: int = Field(description="How many notifications the daily email gathered")
    local_date: date = Field(description="Its day, in the member's time zone")


class _NotificationBase(BaseModel):
    notification_id: uuid.UUID
    subject: str
    body_text: str
    created_at: datetime
    read_at: datetime | None


class InvitationNotification(_NotificationBase):
    kind: Literal[
        Kind.INVITATION_RECEIVED,
        Kind.INVITATION_DECLINED,
        Kind.QUESTION_ASKED,
        Kind.QUESTION_ANSWERED,
        Kind.INVITATION_BACK,
        Kind.REFERRAL_REQUESTED,
        Kind.REFERRAL_OUTCOME,
        Kind.REFERRAL_FALSE_CLAIM,
    ]
    data: InvitationNotificationData


class InvitationAcceptedNotification(_NotificationBase):
    kind: Literal[Kind.INVITATION_ACCEPTED]
    data: InvitationAcceptedNotificationData


class IntroductionNotification(_NotificationBase):
    kind: Literal[
        Kind.INTRODUCTION_REQUESTED,
        Kind.INTRODUCTION_FORWARDED,
        Kind.INTRODUCTION_DECLINED,
        Kind.INTRODUCTION_ACCEPTED,
    ]
    data: IntroductionNotificationData


class RecommendationNotification(_NotificationBase):
    kind: Literal[Kind.RECOMMENDATION_REQUESTED, Kind.RECOMMENDATION_APPROVED]
    data: RecommendationNotificationData


class NudgeNotification(_NotificationBase):
    kind: Literal[Kind.NUDGE]
    data: NudgeNotificationData


class WebhookEndpointDisabledNotification(_NotificationBase):
    kind: Literal[Kind.WEBHOOK_ENDPOINT_DISABLED]
    data: WebhookEndpointDisabledNotificationData


class ExportReadyNotification(_NotificationBase):
    kind: Literal[Kind.EXPORT_READY]
    data: ExportReadyNotificationData


class DigestNotification(_NotificationBase):
    """Never in the feed (it is the daily email itself); marking one read answers it."""

    kind: Literal[Kind.DIGEST]
    data: DigestNotificationData


NotificationOut = Annotated[
    InvitationNotification
    | InvitationAcceptedNotification
    | IntroductionNotification
    | RecommendationNotification
    | NudgeNotification
    | WebhookEndpointDisabledNotification
    | ExportReadyNotification
    | DigestNotification,
    Field(discriminator="kind"),
]
_NOTIFICATION: TypeAdapter[NotificationOut] = TypeAdapter(NotificationOut)


def notification_out(stored: Notification) -> NotificationOut:
    """A stored notification as the API shows it: its ``data`` typed by its kind."""
    data: dict[str, Any] = stored.data or {}
    return _NOTIFICATION.validate_python(
        {
            "notification_id": stored.id,
            "kind": stored.kind,
            "subject": stored.subject,
            "body_text": stored.body_text,
            "data": data,
            "created_at": stored.created_at,
            "read_at": stored.read_at,
        }
    )


class NotificationPage(Page[NotificationOut]):
    """A page of the feed; each item's ``kind`` says what its ``data`` holds."""


# A wall-clock time in the member's own zone (``time_zone``): no seconds, no offset.
LocalTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(description="Local time as HH:MM (24 h, no offset), read in `time_zone`"),
]


def local_time(value: str | None) -> time | None:
    return None if value is None else time.fromisoformat(value)


def written_local_time(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")


class NudgeSettingsIn(Strict):
    enabled: bool = True
    min_fade: float = Field(
        default=DEFAULT_NUDGE_FADE,
        ge=0.5,
        le=9,
        description="Nudge when my effective rating has fallen this far below my rating",
    )
    quiet_start: LocalTime | None = Field(
        default=None, examples=["21:00"], description="No nudges from then (HH:MM local)"
    )
    quiet_end: LocalTime | None = Field(
        default=None, examples=["08:00"], description="Until then (HH:MM local)"
    )
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

    def stored(self) -> dict[str, object]:
        """The columns: the quiet hours as times."""
        values = self.model_dump()
        return {
            **values,
            "quiet_start": local_time(self.quiet_start),
            "quiet_end": local_time(self.quiet_end),
        }


class NudgeSettingsOut(BaseModel):
    enabled: bool
    min_fade: float
    quiet_start: LocalTime | None
    quiet_end: LocalTime | None
    time_zone: str = Field(description="IANA name the quiet hours are read in")

    @classmethod
    def of(cls, stored: NudgeSettings | None) -> "NudgeSettingsOut":
        """The member's settings, or the defaults until they saved some."""
        if stored is None:
            defaults = NudgeSettingsIn()
            return cls.model_validate(defaults.model_dump())
        return cls(
            enabled=stored.enabled,
            min_fade=stored.min_fade,
            quiet_start=written_local_time(stored.quiet_start),
            quiet_end=written_local_time(stored.quiet_end),
            time_zone=stored.time_zone,
        )


EmailChoice = Literal["instant", "digest", "off"]
KindName = Annotated[SingleLine, StringConstraints(min_length=1, max_length=40)]
EMAIL = (
    "instant: each email as it comes; digest: gathered in one email a day (at "
    "digest_hour in your time zone); off: no email (it still shows in the app unless "
    "in_app is false)"
)
IN_APP = "Whether it shows in your notification feed (GET /v1/notifications)"


class PreferenceOut(BaseModel):
    kind: str = Field(
        description="A kind of notification, or `account` for every email "
        "about your account, which is always sent"
    )
    label: str
    email: EmailChoice = Field(description=EMAIL)
    in_app: bool = Field(description=IN_APP)
    email_options: list[EmailChoice] = Field(
        description="What `email` may be for this kind: no digest for urgent ones (a "
        "question with a deadline), only instant for account emails"
    )
    changeable: bool = Field(description="False for account emails: always sent and shown")


class PreferencesOut(BaseModel):
    preferences: list[PreferenceOut]
    digest_hour: int = Field(description="When the daily digest goes, in time_zone")
    time_zone: str = Field(description="Yours (PATCH /v1/me), UTC when unset")


def _check_kinds(kinds: list[str]) -> None:
    if len(set(kinds)) != len(kinds):
        raise ValueError("each kind may appear once")
    for kind in kinds:
        if kind == notification_kinds.ESSENTIAL:
            raise ValueError("account emails are always sent and cannot be changed")
        if not notification_kinds.is_switchable(kind):
            raise ValueError(f"unknown kind {kind!r}; GET this resource for the kinds")


def _check_email(kind: str, email: EmailChoice | None) -> None:
    choice = notification_kinds.CHOICES[kind]
    if email is not None and email not in choice.email_options:
        raise ValueError(f"{kind} is urgent: no digest, only instant or off")


class PreferenceChangeIn(Strict):
    kind: KindName
    email: EmailChoice | None = Field(default=None, description=EMAIL)
    in_app: StrictBool | None = Field(default=None, description=IN_APP)


class PreferencesPatchIn(Strict):
    """Only the kinds listed change, and in them only the fields given."""

    preferences: list[PreferenceChangeIn] = Field(
        min_length=1, max_length=len(notification_kinds.CHOICES)
    )

    @model_validator(mode="after")
    def _allowed(self) -> "PreferencesPatchIn":
        _check_kinds([change.kind for change in self.preferences])
        for change in self.preferences:
            _check_email(change.kind, change.email)
        return self


class PreferenceIn(Strict):
    kind: KindName
    email: EmailChoice = Field(description=EMAIL)
    in_app: StrictBool = Field(description=IN_APP)


class PreferencesPutIn(Strict):
    """Every preference at once: a kind not listed goes back to the default (instant,
    in the app)."""

    preferences: list[PreferenceIn] = Field(max_length=len(notification_kinds.CHOICES))

    @model_validator(mode="after")
    def _allowed(self) -> "PreferencesPutIn":
        _check_kinds([entry.kind for entry in self.preferences])
        for entry in self.preferences:
            _check_email(entry.kind, entry.email)
        return self
