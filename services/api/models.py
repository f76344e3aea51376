"""Every table of the system of record, so Alembic sees the whole schema."""

from rapport_common.db import Base
from rapport_common.outbox import OutboxEvent
from services.api.auth.models import RefreshToken
from services.api.connections.models import Connection, Interaction
from services.api.idempotency.models import IdempotencyKey
from services.api.introductions.models import Introduction
from services.api.invitations.models import Invitation
from services.api.members.models import Member
from services.api.notifications.models import Notification, NudgeSettings
from services.api.policies.models import LinkingPolicy
from services.api.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage

metadata = Base.metadata

__all__ = [
    "Connection",
    "IdempotencyKey",
    "Interaction",
    "Introduction",
    "Invitation",
    "LinkingPolicy",
    "Member",
    "Notification",
    "NudgeSettings",
    "OutboxEvent",
    "RefreshToken",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
    "metadata",
]
