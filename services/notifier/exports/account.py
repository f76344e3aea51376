"""The archive's sections about the member's own account: profile, settings, policy,
notifications, webhook endpoints, sign-ins, searches and exports. Everything here is the
member's alone; what is left out is left out on purpose (docs/privacy.md, "Export")."""

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.accounts import AccountToken
from rapport_common.models.auth import RefreshToken
from rapport_common.models.exports import DataExport
from rapport_common.models.members import Member
from rapport_common.models.notifications import (
    Notification,
    NotificationPreference,
    NudgeSettings,
)
from rapport_common.models.policies import LinkingPolicy
from rapport_common.models.search import SearchUsage
from rapport_common.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage
from rapport_common.settings import Settings

Row = dict[str, Any]


def profile(member: Member) -> Row:
    """Never the password hash: it is a credential, not information about the member."""
    return {
        "member_id": member.id,
        "email": member.email,
        "email_verified_at": member.email_verified_at,
        "name": member.name,
        "given_name": member.given_name,
        "headline": member.headline,
        "company": member.company,
        "title": member.title,
        "market_area": member.market_area,
        "bio": member.bio,
        "links": list(member.links or []),
        "is_recruiter": member.is_recruiter,
        "locale": member.locale,
        "time_zone": member.time_zone,
        "created_at": member.created_at,
        "updated_at": member.updated_at,
    }


async def member_settings(session: AsyncSession, member: Member, settings: Settings) -> Row:
    nudges = await session.get(NudgeSettings, member.id)
    preferences = await session.execute(
        select(NotificationPreference)
        .where(NotificationPreference.member_id == member.id)
        .order_by(NotificationPreference.kind)
    )
    return {
        "networking_stance": member.networking_stance,
        "connections_visible_to": member.connections_visible_to,
        "allows_introductions": member.allows_introductions,
        "reachable_by": member.reachable_by,
        "findable_by": member.findable_by,
        "findable_by_email": member.findable_by_email,
        "decline_cooldown_days": member.decline_cooldown_days,
        "recommendations_visible_to": member.recommendations_visible_to,
        "nudges": {
            "enabled": nudges.enabled if nudges else True,
            "min_fade": nudges.min_fade if nudges else settings.notifications.nudge_default_fade,
            "quiet_start": nudges.quiet_start if nudges else None,
            "quiet_end": nudges.quiet_end if nudges else None,
            "time_zone": nudges.time_zone if nudges else "UTC",
            "customised": nudges is not None,
        },
        # Only the kinds the member changed; every other kind has the defaults (in the
        # feed, emailed at once).
        "notification_preferences": [
            {"kind": p.kind, "email": p.email, "in_app": p.in_app, "updated_at": p.updated_at}
            for p in preferences.scalars()
        ],
    }


async def linking_policy(session: AsyncSession, member_id: uuid.UUID) -> Row:
    policy = await session.get(LinkingPolicy, member_id)
    if policy is None:
        return {"preset": None, "document": None, "version": 0, "default": True}
    return {
        "preset": policy.preset,
        "document": policy.document,
        "version": policy.version,
        "updated_at": policy.updated_at,
        "default": False,
    }


async def notifications(session: AsyncSession, member_id: uuid.UUID) -> list[Row]:
    rows = await session.execute(
        select(Notification)
        .where(Notification.member_id == member_id)
        .order_by(Notification.created_at, Notification.id)
    )
    return [
        {
            "notification_id": n.id,
            "kind": n.kind,
            "subject": n.subject,
            "text": n.body_text,
            "data": n.data,
            "in_feed": n.in_feed,
            "email_delivery": n.email_delivery,
            "created_at": n.created_at,
            "read_at": n.read_at,
            "emailed_at": n.emailed_at,
        }
        for n in rows.scalars()
    ]


async def webhook_endpoints(session: AsyncSession, member_id: uuid.UUID) -> list[Row]:
    """Each endpoint with its delivery log; never a signing secret (current or previous):
    the archive may be stored anywhere, and a secret in it would let anyone sign as us."""
    endpoints = (
        (
            await session.execute(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.member_id == member_id)
                .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
            )
        )
        .scalars()
        .all()
    )
    attempts = await session.execute(
        select(WebhookAttempt, WebhookMessage.event_type)
        .join(WebhookMessage, WebhookMessage.id == WebhookAttempt.message_id)
        .where(WebhookAttempt.endpoint_id.in_([e.id for e in endpoints]))
        .order_by(WebhookAttempt.attempted_at, WebhookAttempt.attempt)
    )
    log: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for attempt, event_type in attempts:
        log[attempt.endpoint_id].append(
            {
                "message_id": attempt.message_id,
                "event_type": event_type,
                "attempt": attempt.attempt,
                "attempted_at": attempt.attempted_at,
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
                "succeeded": attempt.status_code is not None and 200 <= attempt.status_code < 300,
            }
        )
    return [
        {
            "endpoint_id": e.id,
            "url": e.url,
            "description": e.description,
            "event_types": list(e.event_types),
            "created_at": e.created_at,
            "updated_at": e.updated_at,
            "failing_since": e.failing_since,
            "disabled_at": e.disabled_at,
            "disabled_reason": e.disabled_reason,
            "deliveries": log[e.id],
        }
        for e in endpoints
    ]


async def sign_ins(session: AsyncSession, member_id: uuid.UUID, now: datetime) -> list[Row]:
    """One entry per sign-in (a refresh-token family: every rotation adds a token to it);
    never a token or its hash."""
    tokens = (
        (
            await session.execute(
                select(RefreshToken)
                .where(RefreshToken.member_id == member_id)
                .order_by(RefreshToken.created_at)
            )
        )
        .scalars()
        .all()
    )
    families: dict[uuid.UUID, list[RefreshToken]] = defaultdict(list)
    for token in tokens:
        families[token.family_id].append(token)
    history = []
    for family_id, family in families.items():
        revoked = [t.revoked_at for t in family if t.revoked_at is not None]
        latest = family[-1]
        history.append(
            {
                "sign_in_id": family_id,
                "signed_in_at": family[0].created_at,
                "last_used_at": latest.created_at,
                "expires_at": latest.expires_at,
                "ended_at": max(revoked) if latest.revoked_at is not None else None,
                "active": latest.revoked_at is None and latest.expires_at > now,
                "device": latest.device,
            }
        )
    return history


async def account_emails(session: AsyncSession, member_id: uuid.UUID) -> list[Row]:
    """The verification, reset and email-change links sent to the member: what and when,
    never the token (only its hash is kept, and not exported either)."""
    rows = await session.execute(
        select(AccountToken)
        .where(AccountToken.member_id == member_id)
        .order_by(AccountToken.created_at, AccountToken.id)
    )
    return [
        {
            "purpose": t.purpose,
            "address": t.address,
            "created_at": t.created_at,
            "expires_at": t.expires_at,
            "used_at": t.used_at,
            "emailed_at": t.emailed_at,
        }
        for t in rows.scalars()
    ]


async def search_usage(session: AsyncSession, member_id: uuid.UUID) -> list[Row]:
    rows = await session.execute(
        select(SearchUsage).where(SearchUsage.member_id == member_id).order_by(SearchUsage.day)
    )
    return [{"day": usage.day, "searches": usage.searches} for usage in rows.scalars()]


async def exports(session: AsyncSession, member_id: uuid.UUID) -> list[Row]:
    rows = await session.execute(
        select(DataExport)
        .where(DataExport.member_id == member_id)
        .order_by(DataExport.requested_at, DataExport.id)
    )
    return [
        {
            "export_id": e.id,
            "status": e.status,
            "requested_at": e.requested_at,
            "ready_at": e.ready_at,
        }
        for e in rows.scalars()
    ]
