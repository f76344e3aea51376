"""Scheduled work: invitations back from "later", expired questions, reconnect nudges,
and emails still unsent. Each run is idempotent: it can be repeated, or run late."""

import logging
import uuid
import zoneinfo
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.domain.invitations import expire_if_due
from rapport_common.models.connections import Connection
from rapport_common.models.enums import EmailDelivery, InvitationStatus
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.models.notifications import Notification, NudgeSettings
from rapport_common.settings import Settings
from rapport_common.strength import days_since, effective_rating
from services.notifier.clock import clock_of, now_of
from services.notifier.notifications.store import MAX_EMAIL_ATTEMPTS, Draft, deliver, store

logger = logging.getLogger(__name__)
BATCH = 500
UNSENT_GRACE = timedelta(minutes=1)


async def return_deferred_invitations(ctx: dict[str, Any]) -> int:
    """Tell invitees when a "decide later" invitation is back. One notice per deferral:
    the key holds the date it was deferred to."""
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    settings: Settings = ctx["settings"]
    now = now_of(ctx)
    async with sessionmaker() as session, session.begin():
        due = (
            await session.execute(
                select(Invitation, Member.name)
                .join(Member, Member.id == Invitation.inviter_id)
                .where(
                    Invitation.status == InvitationStatus.DEFERRED, Invitation.later_until <= now
                )
                .limit(BATCH)
            )
        ).all()
        drafts = [
            Draft(
                member_id=invitation.invitee_id,
                kind="invitation_back",
                dedupe_key=f"back:{invitation.id}:{invitation.later_until:%Y%m%dT%H%M%S}",
                facts={"inviter": inviter_name},
                data={"invitation_id": str(invitation.id)},
            )
            for invitation, inviter_name in due
        ]
        ids = await store(session, settings, drafts, now)
    async with sessionmaker() as session:
        await deliver(session, settings, ctx["mailer"], ids, clock_of(ctx))
    return len(drafts)


async def expire_questions(ctx: dict[str, Any]) -> int:
    """Close invitations whose question went unanswered past its expiry."""
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    now = now_of(ctx)
    async with sessionmaker() as session, session.begin():
        due = (
            (
                await session.execute(
                    select(Invitation)
                    .where(
                        Invitation.status == InvitationStatus.AWAITING_ANSWER,
                        Invitation.question_expires_at <= now,
                    )
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        expired = [
            invitation for invitation in due if await expire_if_due(session, invitation, now)
        ]
    return len(expired)


def in_quiet_hours(settings: NudgeSettings | None, now: datetime) -> bool:
    if settings is None or settings.quiet_start is None or settings.quiet_end is None:
        return False
    local: time = now.astimezone(zoneinfo.ZoneInfo(settings.time_zone)).time()
    start, end = settings.quiet_start, settings.quiet_end
    # A window such as 21:00-08:00 wraps around midnight.
    return start <= local < end if start < end else local >= start or local < end


async def send_nudges(ctx: dict[str, Any]) -> int:
    """Nudge members about strong relationships that have faded: at most once per
    connection per cooldown, never in their quiet hours, never when they turned it off."""
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    settings: Settings = ctx["settings"]
    rules, now = settings.notifications, now_of(ctx)
    async with sessionmaker() as session, session.begin():
        rows = (
            (
                await session.execute(
                    select(Connection).where(
                        or_(
                            Connection.low_rating >= rules.nudge_min_rating,
                            Connection.high_rating >= rules.nudge_min_rating,
                        )
                    )
                )
            )
            .scalars()
            .all()
        )
        candidates: list[tuple[uuid.UUID, uuid.UUID, int, float, float]] = []
        for connection in rows:
            since = connection.last_interaction_at or connection.connected_at
            days = days_since(since, now)
            for member_id in (connection.member_low_id, connection.member_high_id):
                rating = connection.rating_by(member_id)
                if rating is not None and rating >= rules.nudge_min_rating:
                    effective = effective_rating(settings.strength, rating, days)
                    candidates.append(
                        (member_id, connection.other(member_id), rating, effective, days)
                    )
        drafts = await _nudge_drafts(session, settings, candidates, now)
        ids = await store(session, settings, drafts, now)
    async with sessionmaker() as session:
        await deliver(session, settings, ctx["mailer"], ids, clock_of(ctx))
    return len(drafts)


async def _nudge_drafts(
    session: AsyncSession,
    settings: Settings,
    candidates: list[tuple[uuid.UUID, uuid.UUID, int, float, float]],
    now: datetime,
) -> list[Draft]:
    member_ids = {c[0] for c in candidates} | {c[1] for c in candidates}
    prefs = {
        p.member_id: p
        for p in (
            await session.execute(
                select(NudgeSettings).where(NudgeSettings.member_id.in_(member_ids))
            )
        ).scalars()
    }
    cooldown = now - timedelta(days=settings.notifications.nudge_cooldown_days)
    recent_rows = await session.execute(
        select(Notification.member_id, Notification.related_member_id).where(
            Notification.kind == "nudge",
            Notification.created_at > cooldown,
            Notification.member_id.in_(member_ids),
        )
    )
    recent = {(member, related) for member, related in recent_rows}
    names = {
        m.id: m.name
        for m in (await session.execute(select(Member).where(Member.id.in_(member_ids)))).scalars()
    }
    drafts = []
    for member_id, other_id, rating, effective, days in candidates:
        pref = prefs.get(member_id)
        min_fade = pref.min_fade if pref else settings.notifications.nudge_default_fade
        if (pref is not None and not pref.enabled) or rating - effective < min_fade:
            continue
        if (member_id, other_id) in recent or in_quiet_hours(pref, now):
            continue
        drafts.append(
            Draft(
                member_id=member_id,
                kind="nudge",
                related_member_id=other_id,
                dedupe_key=f"nudge:{member_id}:{other_id}:{now:%Y-%m-%d}",
                facts={
                    "other": names.get(other_id, "your connection"),
                    "rating": str(rating),
                    "days": str(int(days)),
                    "effective": f"{effective:.1f}",
                },
                data={"member_id": str(other_id), "suggested_actions": ["coffee", "meal", "call"]},
            )
        )
    return drafts


async def send_unsent_emails(ctx: dict[str, Any]) -> int:
    """Finish emails whose job gave up or died after storing them, oldest first; return
    how many were sent. An email that cannot be sent is given up with its reason and the
    sweep goes on past it."""
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    cutoff = now_of(ctx) - UNSENT_GRACE
    async with sessionmaker() as session:
        ids = list(
            (
                await session.execute(
                    select(Notification.id)
                    .where(
                        Notification.emailed_at.is_(None),
                        Notification.email_failed_at.is_(None),
                        Notification.email_delivery == EmailDelivery.INSTANT,
                        Notification.created_at < cutoff,
                        Notification.email_attempts < MAX_EMAIL_ATTEMPTS,
                    )
                    .order_by(Notification.created_at)
                    .limit(BATCH)
                )
            ).scalars()
        )
        delivered = await deliver(session, ctx["settings"], ctx["mailer"], ids, clock_of(ctx))
    if delivered.given_up or delivered.refused:
        logger.warning(
            "unsent-email sweep left emails behind",
            extra={"given_up": delivered.given_up, "refused": str(delivered.refused or "")},
        )
    return delivered.sent
