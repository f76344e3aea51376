"""The daily digest: the notifications a member chose to get by email once a day,
gathered into one email sent at ``notifications.digest_hour`` in their time zone.

The digest is itself a notification (kind ``digest``, not shown in the feed), keyed by
the member and their local date, so there is one a day whatever runs twice; each
notification it carries points to it (``digest_id``), so none is carried twice; and its
email goes through ``deliver`` like any other, exactly once.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from string import Template
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.domain.notification_kinds import DIGEST
from rapport_common.models.enums import EmailDelivery
from rapport_common.models.members import Member
from rapport_common.models.notifications import Notification
from rapport_common.settings import Settings
from services.notifier.clock import clock_of, now_of
from services.notifier.notifications import catalogue, links
from services.notifier.notifications.messages import (
    Gathered,
    Message,
    Recipient,
    compose,
    day_of,
    when,
)
from services.notifier.notifications.store import deliver

# Members whose digest one run prepares; the next run takes the rest.
BATCH = 500
PENDING = (Notification.email_delivery == EmailDelivery.DIGEST, Notification.digest_id.is_(None))


async def send_digests(ctx: dict[str, Any]) -> int:
    """Gather and email today's digest of each member whose digest hour has come and who
    has something waiting; return how many digests were prepared.

    Idempotent: a member gets one digest per local day (a second run that day prepares
    none, and what arrived since waits for tomorrow's), and an email recorded as sent is
    never sent again."""
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    settings: Settings = ctx["settings"]
    now = now_of(ctx)
    async with sessionmaker() as session, session.begin():
        # Every member with something waiting, by zone (two small columns), so members
        # whose hour has not come cannot crowd out those whose has.
        waiting = await session.execute(
            select(Member.id, Member.time_zone).where(
                Member.id.in_(select(Notification.member_id).where(*PENDING))
            )
        )
        hour = settings.notifications.digest_hour
        keys = {}
        for member_id, zone in waiting:
            local = now.astimezone(Recipient("", time_zone=zone).zone)
            if local.hour >= hour:
                keys[_key(member_id, local.date())] = member_id
        # Those who had today's digest already wait for tomorrow's.
        sent_today = await session.execute(
            select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys))
        )
        for key in sent_today.scalars():
            keys.pop(key)
        due_ids = list(keys.values())[:BATCH]
        due = (await session.execute(select(Member).where(Member.id.in_(due_ids)))).scalars().all()
        ids = [
            digest for member in due if (digest := await _gather(session, settings, member, now))
        ]
    async with sessionmaker() as session:
        await deliver(session, settings, ctx["mailer"], ids, clock_of(ctx))
    return len(ids)


async def _gather(
    session: AsyncSession, settings: Settings, member: Member, now: datetime
) -> uuid.UUID | None:
    """Store ``member``'s digest for today with what is waiting, and mark what it
    carries; ``None`` if today's went already or nothing is waiting (another run took
    it)."""
    reader = Recipient.of(member)
    items = (
        (
            await session.execute(
                select(Notification)
                .where(Notification.member_id == member.id, *PENDING)
                .order_by(Notification.created_at, Notification.id)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    if not items:
        return None
    local_day = now.astimezone(reader.zone).date()
    message = _digest(items, reader, now, settings)
    digest_id = (
        await session.execute(
            insert(Notification)
            .values(
                id=uuid.uuid4(),
                member_id=member.id,
                kind=DIGEST,
                dedupe_key=_key(member.id, local_day),
                subject=message.subject,
                body_text=message.text,
                body_html=message.html,
                data={"count": len(items), "local_date": local_day.isoformat()},
                created_at=now,
                in_feed=False,
                email_delivery=EmailDelivery.INSTANT,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Notification.id)
        )
    ).scalar_one_or_none()
    if digest_id is None:
        return None
    await session.execute(
        update(Notification)
        .where(Notification.id.in_([item.id for item in items]))
        .values(digest_id=digest_id)
        .execution_options(synchronize_session=False)
    )
    return digest_id


def _key(member_id: uuid.UUID, local_day: date) -> str:
    return f"digest:{member_id}:{local_day.isoformat()}"


def _digest(
    items: Sequence[Notification], reader: Recipient, now: datetime, settings: Settings
) -> Message:
    """One message listing each notification: when it came (the reader's time), its
    subject, its message."""
    received = Template(catalogue.phrase("_email", "digest_received", reader.locale))
    gathered = [
        Gathered(
            subject=item.subject,
            stamp=received.safe_substitute(when=when(item.created_at, reader)),
            html=item.body_html,
            text=item.body_text,
        )
        for item in items
    ]
    action = links.action_url(settings, DIGEST, {})
    return compose(
        DIGEST,
        {"date": day_of(now, reader)},
        reader,
        links={"action": action} if action else None,
        items=gathered,
    )
