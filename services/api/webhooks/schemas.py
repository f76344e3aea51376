import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field, field_validator

from rapport_common.webhooks.payloads import WebhookEventType
from services.api.schemas import AwareInstant, SingleLine, Strict

MessageStatus = Literal["pending", "succeeded", "failed"]
MESSAGE_ID_PATTERN = r"^msg_[0-9a-f]{32}$"
MessageId = Annotated[str, Field(pattern=MESSAGE_ID_PATTERN, examples=["msg_" + "0" * 32])]


class EndpointIn(Strict):
    url: SingleLine = Field(
        min_length=1,
        max_length=2048,
        description="http(s) URL on a public address; checked against SSRF rules",
        examples=["https://crm.example.com/hooks/rapport"],
    )
    event_types: list[WebhookEventType] = Field(
        min_length=1,
        max_length=len(get_args(WebhookEventType)),
        description="The webhook events to receive (see the webhooks in this document)",
    )
    description: SingleLine | None = Field(default=None, max_length=200)

    @field_validator("event_types")
    @classmethod
    def _unique(cls, event_types: list[WebhookEventType]) -> list[WebhookEventType]:
        return sorted(set(event_types))


class EndpointOut(BaseModel):
    endpoint_id: uuid.UUID
    url: str
    description: str | None
    event_types: list[WebhookEventType]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None = Field(
        description="Start of the current run of failed attempts; disabled after "
        "`disable_after_days` of it"
    )
    previous_secret_expires_at: datetime | None = Field(
        description="Until then, deliveries are also signed with the previous secret"
    )
    created_at: datetime


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(description="The signing secret (`whsec_...`). Shown only this once.")


class SecretOut(BaseModel):
    endpoint_id: uuid.UUID
    secret: str = Field(description="The new signing secret. Shown only this once.")
    previous_secret_expires_at: datetime = Field(
        description="The previous secret keeps signing alongside the new one until then"
    )


class DeliveryOut(BaseModel):
    """One real attempt to deliver a message."""

    attempt_id: uuid.UUID
    message_id: str
    event_type: WebhookEventType
    attempt: int = Field(description="1 for the first attempt of this message, then 2, 3...")
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered")
    error: str | None = Field(description="Why it failed without an answer, or a redirect")
    duration_ms: int
    succeeded: bool


class MessageOut(BaseModel):
    message_id: str
    event_type: WebhookEventType
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime


class RecoverIn(Strict):
    since: AwareInstant = Field(description="Re-queue every failed message created since then")


class RecoverOut(BaseModel):
    requeued: int = Field(description="How many failed messages will be sent again")
