"""Storing notifications once and emailing each exactly once it is recorded as sent."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.clock import Clock
from rapport_common.models.members import Member
from rapport_common.models.notifications import Notification
from rapport_common.settings import Settings
from services.notifier.errors import TransientError
from services.notifier.notifications.mailer import Mailer, build_email
from services.notifier.notifications.messages import Message, compose


@dataclass(frozen=True)
class Draft:
    """A notification to store: who gets it, what kind, the facts its template uses."""

    member_id: uuid.UUID
    kind: str
    dedupe_key: str
    facts: dict[str, str]
    related_member_id: uuid.UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)


async def store(
    session: AsyncSession, settings: Settings, drafts: Sequence[Draft], now: datetime
) -> list[uuid.UUID]:
    """Insert the drafts not stored before (by ``dedupe_key``); return every draft's id,
    new or old, so the caller can deliver whatever is still unsent."""
    if not drafts:
        return []
    rows = []
    for draft in drafts:
        message: Message = compose(draft.kind, draft.facts, settings.notifications.settings_url)
        rows.append(
            {
                "id": uuid.uuid4(),
                "member_id": draft.member_id,
                "kind": draft.kind,
                "dedupe_key": draft.dedupe_key,
                "related_member_id": draft.related_member_id,
                "subject": message.subject,
                "body_text": message.text,
                "body_html": message.html,
                "data": draft.data,
                "created_at": now,
            }
        )
    await session.execute(
        insert(Notification).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    keys = [draft.dedupe_key for draft in drafts]
    found = await session.execute(select(Notification.id).where(Notification.dedupe_key.in_(keys)))
    return list(found.scalars())


async def deliver(
    session: AsyncSession,
    settings: Settings,
    mailer: Mailer,
    notification_ids: Sequence[uuid.UUID],
    clock: Clock,
) -> int:
    """Email each notification not yet recorded as sent; return how many were sent.

    Runs in the caller's session and commits after each email, so the caller's own
    writes (the stored notifications) commit with the first one. The row is locked while
    its email goes out and ``emailed_at`` is committed right after the SMTP server
    accepts it: a crash before that commit may send it again, one after it never does.
    A row locked by another worker is skipped (it is being sent).
    """
    sent = 0
    for notification_id in notification_ids:
        row = (
            await session.execute(
                select(Notification, Member.email)
                .join(Member, Member.id == Notification.member_id)
                .where(Notification.id == notification_id, Notification.emailed_at.is_(None))
                .with_for_update(of=Notification, skip_locked=True)
            )
        ).one_or_none()
        if row is None:
            continue
        notification, email_address = row
        email = build_email(
            settings.smtp,
            email_address,
            Message(notification.subject, notification.body_text, notification.body_html),
            notification.id,
            clock(),
        )
        notification.email_attempts += 1
        try:
            await mailer.send(email)
        except TransientError:
            await session.commit()  # the attempt is counted; the job's retry sends it later
            raise
        notification.emailed_at = clock()
        await session.commit()
        sent += 1
    return sent
