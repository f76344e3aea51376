"""Every table of the system of record, so Alembic sees the whole schema."""

from rapport_common.db import Base
from rapport_common.models.accounts import AccountRequest, AccountToken
from rapport_common.models.auth import RefreshToken, SignInFailure
from rapport_common.models.blocks import Block
from rapport_common.models.connections import Connection, Interaction
from rapport_common.models.email_invitations import DoNotContact, EmailInvitation
from rapport_common.models.erasures import MemberErasure
from rapport_common.models.exports import DataExport
from rapport_common.models.idempotency import IdempotencyKey
from rapport_common.models.introductions import Introduction
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.models.notes import ConnectionNote
from rapport_common.models.notifications import (
    Notification,
    NotificationPreference,
    NudgeSettings,
)
from rapport_common.models.policies import LinkingPolicy
from rapport_common.models.recommendations import Recommendation
from rapport_common.models.search import SearchUsage
from rapport_common.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage
from rapport_common.outbox import OutboxEvent

metadata = Base.metadata

__all__ = [
    "AccountRequest",
    "AccountToken",
    "Block",
    "Connection",
    "ConnectionNote",
    "DataExport",
    "DoNotContact",
    "EmailInvitation",
    "IdempotencyKey",
    "Interaction",
    "Introduction",
    "Invitation",
    "LinkingPolicy",
    "Member",
    "MemberErasure",
    "Notification",
    "NotificationPreference",
    "NudgeSettings",
    "OutboxEvent",
    "Recommendation",
    "RefreshToken",
    "SearchUsage",
    "SignInFailure",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
    "metadata",
]
