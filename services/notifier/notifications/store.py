"""Storing notifications once, as each member's preferences say, and emailing each
exactly once it is recorded as sent."""

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.clock import Clock
from rapport_common.db import DriverStatement
from rapport_common.domain import notification_kinds, preference_links
from rapport_common.domain.email_links import address_hash
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.enums import EmailDelivery
from rapport_common.models.members import Member
from rapport_common.models.notifications import Notification, NotificationPreference
from rapport_common.repositories.do_not_contact import DoNotContactRepository
from rapport_common.repositories.members import MemberRepository
from rapport_common.settings import Settings
from services.notifier import driver
from services.notifier.erasure.guard import held_members
from services.notifier.errors import TransientError
from services.notifier.notifications import links
from services.notifier.notifications.layout import as_email
from services.notifier.notifications.mailer import (
    Email,
    Mailer,
    RefusedForNow,
    Undeliverable,
    build_email,
)
from services.notifier.notifications.messages import Fact, Message, Recipient, compose
from services.notifier.notifications.mime import raw_email
from services.notifier.notifications.preferences import applied, preferences

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
    facts: dict[str, Fact]
    related_member_id: uuid.UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # The button's link when it is not a web app page (a signed download link).
    action_url: str | None = None


async def store(
    session: AsyncSession, settings: Settings, drafts: Sequence[Draft], now: datetime
) -> list[uuid.UUID]:
    """Insert the drafts not stored before (by ``dedupe_key``); return every draft's id,
    new or old, so the caller can deliver whatever is still unsent.

    Each is written for its reader (language, time zone, given name) and placed as their
    preferences for its kind say: in the feed or hidden, emailed at once, kept for the
    digest, or not emailed. A draft for a member who is gone is dropped."""
    if not drafts:
        return []
    wanted = {draft.member_id for draft in drafts}
    held = held_members(session)  # the event's members, read by the erasure guard
    readers = {i: held[i] for i in wanted if i in held}
    if missing := wanted - readers.keys():
        readers |= await MemberRepository(session).get_many(missing)
    chosen = await preferences(session, {(draft.member_id, draft.kind) for draft in drafts})
    rows = []
    for draft in drafts:
        reader = readers.get(draft.member_id)
        if reader is None:
            continue
        action = draft.action_url or links.action_url(settings, draft.kind, draft.data)
        message = compose(
            draft.kind,
            draft.facts,
            Recipient.of(reader),
            links={"action": action} if action else None,
        )
        placed = applied(draft.kind, chosen.get((draft.member_id, draft.kind)))
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
                "in_feed": placed.in_feed,
                "email_delivery": placed.email,
                "email_attempts": 0,
            }
        )
    if not rows:
        return []
    # One row a statement, on the driver: an event stores one notification, at times
    # two.
    new: list[uuid.UUID] = []
    for row in rows:
        inserted = await driver.fetch(session, _INSERT, {f"v_{k}": v for k, v in row.items()})
        new.extend(found["id"] for found in inserted)
    if len(new) == len(rows):
        # The usual case: none was stored before, no second query.
        _keep_fresh(session, rows, readers, chosen)
        return new
    keys = [row["dedupe_key"] for row in rows]
    found = await session.execute(select(Notification.id).where(Notification.dedupe_key.in_(keys)))
    return list(found.scalars())


_NOTIFICATIONS = cast(Table, Notification.__table__)
# What ``store`` writes of a notification (the other columns take their defaults).
STORED_COLUMNS = (
    "id",
    "member_id",
    "kind",
    "dedupe_key",
    "related_member_id",
    "subject",
    "body_text",
    "body_html",
    "data",
    "created_at",
    "in_feed",
    "email_delivery",
    "email_attempts",
)
_INSERT = DriverStatement(
    insert(_NOTIFICATIONS)
    .values({name: bindparam(f"v_{name}") for name in STORED_COLUMNS})
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(_NOTIFICATIONS.c.id)
)
# An email's record: what ``deliver`` changes of a notification it took from ``store``
# in the same transaction (a plain object, which the ORM does not flush).
RECORD = (
    update(_NOTIFICATIONS)
    .where(_NOTIFICATIONS.c.id == bindparam("record_id"))
    .values(
        email_attempts=bindparam("record_attempts"),
        emailed_at=bindparam("record_emailed_at"),
        email_failed_at=bindparam("record_failed_at"),
        email_error=bindparam("record_error"),
        email_delivery=bindparam("record_delivery"),
    )
)
RECORD_WRITE = DriverStatement(RECORD)


def record_params(notification: Notification) -> dict[str, Any]:
    return {
        "record_id": notification.id,
        "record_attempts": notification.email_attempts,
        "record_emailed_at": notification.emailed_at,
        "record_failed_at": notification.email_failed_at,
        "record_error": notification.email_error,
        "record_delivery": notification.email_delivery,
    }


# In ``session.info``: the transaction that inserted notifications, and each of them with
# its reader and preference, as ``deliver`` reads them.
FRESH = "rapport.fresh_notifications"
Fresh = tuple[Notification, Member, NotificationPreference | None]


def _keep_fresh(
    session: AsyncSession,
    rows: list[dict[str, Any]],
    readers: dict[uuid.UUID, Member],
    chosen: dict[tuple[uuid.UUID, str], NotificationPreference],
) -> None:
    """Keep the rows just inserted as plain objects, so that ``deliver`` in the same
    transaction finds them without reading them back: nobody else can see them before it
    commits, so they need no lock either. ``deliver`` writes what it changes of them
    itself (``RECORD``)."""
    fresh: dict[uuid.UUID, Fresh] = {}
    for row in rows:
        notification = driver.plain(
            Notification, row | {"emailed_at": None, "email_failed_at": None, "email_error": None}
        )
        member = readers[row["member_id"]]
        fresh[row["id"]] = (notification, member, chosen.get((member.id, row["kind"])))
    session.info[FRESH] = (session.sync_session.get_transaction(), fresh)


def _fresh(session: AsyncSession, notification_id: uuid.UUID) -> Fresh | None:
    """The notification as ``_keep_fresh`` kept it, if this transaction inserted it."""
    kept = session.info.get(FRESH)
    if kept is None or kept[0] is not session.sync_session.get_transaction():
        return None
    found: Fresh | None = kept[1].get(notification_id)
    return found


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
    *,
    commit_last: bool = True,
) -> Delivered:
    """Email each notification not yet recorded as sent or given up.

    Runs in the caller's session and commits after each email, so the caller's own
    writes (the stored notifications) commit with the first one. The row is locked while
    its email goes out and ``emailed_at`` is committed right after the SMTP server
    accepts it: a crash before that commit may send it again, one after it never does.
    A row locked by another worker is skipped (it is being sent). With ``commit_last``
    false, the last one's record is left for the caller to commit at once (an event job
    commits it with the event's completion), unless the server refused an email for now
    (the caller then raises, and its rollback must not take the records with it): for a
    notification ``store`` inserted in this transaction, that record waits in
    ``driver.later``, which the caller writes (``driver.take_later``, ``write_later``)
    before its commit.

    One email never holds up the others: one that cannot be sent is given up with the
    reason (``email_failed_at``, ``email_error``), one refused for now is counted and left
    for a retry (``Delivered.refused``). Only a server that cannot be reached stops the
    loop, with ``TransientError``. An unverified address on the do-not-contact list is
    never emailed: the notification stays in the feed and its email is given up. Only
    notifications to email at once are sent, and the member's preference is read again
    first: one they switched off or to the digest since it was stored is moved there.
    """
    delivered = Delivered()
    do_not_contact = DoNotContactRepository(session)
    address_key = settings.email_invitations.address_key.get_secret_value()
    last = len(notification_ids) - 1
    for n, notification_id in enumerate(notification_ids):
        fresh = _fresh(session, notification_id)
        if fresh is not None and fresh[0].email_delivery != EmailDelivery.INSTANT:
            continue  # placed just now by the preference read in this transaction
        row = (
            fresh
            or (
                await session.execute(
                    select(Notification, Member, NotificationPreference)
                    .join(Member, Member.id == Notification.member_id)
                    .outerjoin(
                        NotificationPreference,
                        and_(
                            NotificationPreference.member_id == Notification.member_id,
                            NotificationPreference.kind == Notification.kind,
                        ),
                    )
                    .where(
                        Notification.id == notification_id,
                        Notification.emailed_at.is_(None),
                        Notification.email_failed_at.is_(None),
                        Notification.email_delivery == EmailDelivery.INSTANT,
                    )
                    .with_for_update(of=Notification, skip_locked=True)
                )
            ).one_or_none()
        )
        if row is None:
            continue
        notification, member, preference = row
        commit = _committer(session, notification if fresh is not None else None)
        email_address = member.email
        now_chosen = applied(notification.kind, preference).email
        if now_chosen != EmailDelivery.INSTANT:
            # Changed since it was stored (an unsubscribe between a retry and the next):
            # the member's latest word holds.
            notification.email_delivery = now_chosen
            await commit()
            continue
        # A member who verified the address has proved it theirs: their own preferences
        # (and the unsubscribe link in each of their emails) decide, not a stop made in a
        # join email. The stop stays on the list and holds again if the account goes.
        unproven = member.email_verified_at is None
        if unproven and await do_not_contact.contains(address_hash(address_key, email_address)):
            give_up(notification, DO_NOT_CONTACT, clock())
            delivered.given_up += 1
            await commit()
            continue
        notification.email_attempts += 1
        try:
            email = _email(settings, notification, member, clock())
            await mailer.send(email)
        except Undeliverable as exc:
            give_up(notification, str(exc), clock())
            delivered.given_up += 1
        except RefusedForNow as exc:
            delivered.refused = delivered.refused or exc
            delivered.given_up += count_failure(notification, exc, clock())
        except TransientError as exc:
            count_failure(notification, exc, clock())
            await commit()  # the attempt is counted; a retry sends it later
            raise
        else:
            notification.emailed_at = clock()
            delivered.sent += 1
        if n < last or commit_last or delivered.refused is not None:
            await commit()
        elif fresh is not None:
            driver.later(session, RECORD_WRITE, record_params(notification))
        else:
            await session.flush()
    return delivered


def _committer(session: AsyncSession, plain: Notification | None) -> Callable[[], Awaitable[None]]:
    """The session's commit, writing first the record of ``plain``, a notification
    ``store`` kept as a plain object (the ORM does not flush it)."""

    async def commit() -> None:
        if plain is not None:
            await driver.fetch(session, RECORD_WRITE, record_params(plain))
        await session.commit()

    return commit


def _email(settings: Settings, notification: Notification, member: Member, now: datetime) -> Email:
    """The notification's email: the stored message in the member's layout, with the
    links that change or stop its kind when the member may. Written straight to bytes
    when it can be (``mime.py``: the same bytes, several times cheaper), else built by
    the email package; ``Undeliverable`` if the address cannot be written."""
    stored = Message(notification.subject, notification.body_text, notification.body_html)
    unsubscribe_url = settings_url = None
    if notification_kinds.has_unsubscribe(notification.kind):
        unsubscribe_url = preference_links.unsubscribe_url(settings, member.id, notification.kind)
        settings_url = preference_links.settings_url(settings, member.id, notification.kind)
    message = as_email(stored, Recipient.of(member), settings_url)
    thread = links.thread_root(notification.data or {})

    def build() -> EmailMessage:
        return build_email(
            settings.smtp,
            member.email,
            message,
            notification.id,
            now,
            unsubscribe_url=unsubscribe_url,
            thread=thread,
        )

    written = raw_email(
        settings.smtp,
        member.email,
        message,
        notification.id,
        now,
        unsubscribe_url,
        thread,
        build=build,
    )
    return written or build()


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
