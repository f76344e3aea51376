"""Storing notifications once and emailing each exactly once it is recorded as sent."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.clock import Clock
from rapport_common.domain.email_links import address_hash
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.members import Member
from rapport_common.models.notifications import Notification
from rapport_common.repositories.do_not_contact import DoNotContactRepository
from rapport_common.settings import Settings
from services.notifier.errors import TransientError
from services.notifier.notifications.mailer import (
    Mailer,
    RefusedForNow,
    Undeliverable,
    build_email,
)
from services.notifier.notifications.messages import Message, compose

logger = logging.getLogger(__name__)
# After this many failed attempts an email is given up, and the reason kept.
MAX_EMAIL_ATTEMPTS = 10
ERROR_LENGTH = 500
DO_NOT_CONTACT = "the address asked for no email from Rapport"


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


@dataclass
class Delivered:
    sent: int = 0
    given_up: int = 0
    # The first email the server refused for now; the others were still tried.
    refused: RefusedForNow | None = None


async def deliver(
    session: AsyncSession,
    settings: Settings,
    mailer: Mailer,
    notification_ids: Sequence[uuid.UUID],
    clock: Clock,
) -> Delivered:
    """Email each notification not yet recorded as sent or given up.

    Runs in the caller's session and commits after each email, so the caller's own
    writes (the stored notifications) commit with the first one. The row is locked while
    its email goes out and ``emailed_at`` is committed right after the SMTP server
    accepts it: a crash before that commit may send it again, one after it never does.
    A row locked by another worker is skipped (it is being sent).

    One email never holds up the others: one that cannot be sent is given up with the
    reason (``email_failed_at``, ``email_error``), one refused for now is counted and left
    for a retry (``Delivered.refused``). Only a server that cannot be reached stops the
    loop, with ``TransientError``. An address on the do-not-contact list is never
    emailed: the notification stays in the feed and its email is given up.
    """
    delivered = Delivered()
    do_not_contact = DoNotContactRepository(session)
    address_key = settings.email_invitations.address_key.get_secret_value()
    for notification_id in notification_ids:
        row = (
            await session.execute(
                select(Notification, Member.email)
                .join(Member, Member.id == Notification.member_id)
                .where(
                    Notification.id == notification_id,
                    Notification.emailed_at.is_(None),
                    Notification.email_failed_at.is_(None),
                )
                .with_for_update(of=Notification, skip_locked=True)
            )
        ).one_or_none()
        if row is None:
            continue
        notification, email_address = row
        if await do_not_contact.contains(address_hash(address_key, email_address)):
            give_up(notification, DO_NOT_CONTACT, clock())
            delivered.given_up += 1
            await session.commit()
            continue
        notification.email_attempts += 1
        try:
            email = build_email(
                settings.smtp,
                email_address,
                Message(notification.subject, notification.body_text, notification.body_html),
                notification.id,
                clock(),
            )
            await mailer.send(email)
        except Undeliverable as exc:
            give_up(notification, str(exc), clock())
            delivered.given_up += 1
        except RefusedForNow as exc:
            delivered.refused = delivered.refused or exc
            delivered.given_up += count_failure(notification, exc, clock())
        except TransientError as exc:
            count_failure(notification, exc, clock())
            await session.commit()  # the attempt is counted; a retry sends it later
            raise
        else:
            notification.emailed_at = clock()
            delivered.sent += 1
        await session.commit()
    return delivered


# What carries an email the notifier sends: the same attempt and failure columns on each.
EmailRecord = Notification | EmailInvitation


def count_failure(record: EmailRecord, exc: Exception, now: datetime) -> bool:
    """Keep the reason; give the email up (and say so) after its last attempt."""
    if record.email_attempts >= MAX_EMAIL_ATTEMPTS:
        give_up(record, f"{MAX_EMAIL_ATTEMPTS} attempts failed, the last: {exc}", now)
        return True
    record.email_error = str(exc)[:ERROR_LENGTH]
    return False


def give_up(record: EmailRecord, reason: str, now: datetime) -> None:
    logger.warning(
        "email given up",
        extra={
            "table": record.__tablename__,
            "row_id": str(record.id),
            "reason": reason[:ERROR_LENGTH],
        },
    )
    record.email_failed_at = now
    record.email_error = reason[:ERROR_LENGTH]
