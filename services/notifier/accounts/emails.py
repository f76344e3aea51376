"""Account emails: the link to verify an address (at registration, again on request, or
a new address of an email change), to reset a password, and the notice to the old
address of a change, with its undo link. Always sent (no preference switches them off);
they go to an address, not to the member's feed.

They go even to an address on the do-not-contact list. That list stops the email
nobody asked for at that address (join emails, and notifications); an account email
answers a request made with the address, each kind is limited per address or per
account, and without it a person who once clicked "stop" could never verify the
account they open with that address.

The token in the link is made here, just before sending: its SHA-256 is committed to
the request's ``account_tokens`` row, the token itself goes only into the email.
"""

import hashlib
import logging
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import (
    ACCOUNT_EMAIL_EVENT_TYPES,
    AccountEmailRequestedV1,
    EventEnvelope,
    parse_payload,
)
from rapport_common.models.accounts import AccountToken, AccountTokenPurpose
from rapport_common.models.members import Member
from rapport_common.settings import Settings
from services.notifier.clock import clock_of
from services.notifier.errors import TransientError
from services.notifier.notifications.layout import as_email
from services.notifier.notifications.mailer import Undeliverable, build_email
from services.notifier.notifications.messages import Recipient, compose

logger = logging.getLogger(__name__)
MAX_EMAIL_ATTEMPTS = 10
ERROR_LENGTH = 500
Purpose = AccountTokenPurpose

# The catalogue kind of each email, and the API page its link opens
# (services/api/accounts/forms.py).
KINDS = {
    Purpose.VERIFY_EMAIL: ("account_verify_email", "/account/verify-email"),
    Purpose.RESET_PASSWORD: ("account_reset_password", "/account/reset-password"),
    Purpose.CHANGE_EMAIL: ("account_confirm_email", "/account/confirm-email"),
    Purpose.UNDO_EMAIL_CHANGE: ("account_email_changed", "/account/undo-email-change"),
}


def link(settings: Settings, purpose: Purpose, token: str) -> str:
    base = (settings.accounts.link_base or settings.api.public_url).rstrip("/")
    return f"{base}{KINDS[purpose][1]}?token={token}"


async def _due(session: AsyncSession, account_token_id: uuid.UUID) -> AccountToken | None:
    """The row, locked, if its email is not sent or given up; one another worker holds
    is being sent, so it is skipped."""
    query = (
        select(AccountToken)
        .where(
            AccountToken.id == account_token_id,
            AccountToken.emailed_at.is_(None),
            AccountToken.email_failed_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalar_one_or_none()


def _needless(row: AccountToken, member: Member, now: datetime) -> str | None:
    """Why this email need not go any more, if it need not."""
    if row.used_at is not None:
        return "its link was spent before it was sent"
    if row.expires_at <= now:
        return "its link expired before it was sent"
    if row.purpose == Purpose.VERIFY_EMAIL and member.email_verified_at is not None:
        return "the address is verified already"
    return None


def _stop(row: AccountToken, reason: str, now: datetime) -> None:
    row.email_failed_at = now
    row.email_error = reason[:ERROR_LENGTH]


def concerns(envelope: EventEnvelope) -> bool:
    """Whether ``send_account_email`` has anything to do with the event."""
    return envelope.type in ACCOUNT_EMAIL_EVENT_TYPES


async def send_account_email(
    ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession
) -> None:
    """Send the email of an ``account.*`` event.

    Idempotent: the row is locked while its token is made, and ``emailed_at`` is
    committed right after the SMTP server accepts the email, so a rerun finds nothing
    due. The token's hash is committed before the email goes, so the link works the
    moment it arrives; a crash between sending and recording sends the email again with
    a new link, and the first one then stops working."""
    if not concerns(envelope):
        return
    event = parse_payload(envelope)
    assert isinstance(event, AccountEmailRequestedV1)
    settings: Settings = ctx["settings"]
    clock = clock_of(ctx)
    row = await _due(session, event.account_token_id)
    if row is None:
        return
    member = await session.get(Member, row.member_id)
    assert member is not None  # the row goes with its member (ON DELETE CASCADE)
    # A change's link goes to the new address, its notice to the old one.
    own = row.purpose in (Purpose.VERIFY_EMAIL, Purpose.RESET_PASSWORD)
    address = member.email if own else row.address
    assert address is not None
    reason = _needless(row, member, clock())
    if reason is not None:
        _stop(row, reason, clock())
    else:
        await _send(ctx, settings, session, row, member, address)
    await session.commit()


async def _send(
    ctx: dict[str, Any],
    settings: Settings,
    session: AsyncSession,
    row: AccountToken,
    member: Member,
    address: str,
) -> None:
    clock = clock_of(ctx)
    token = secrets.token_urlsafe(32)
    row.token_hash = hashlib.sha256(token.encode()).hexdigest()
    row.email_attempts += 1
    await session.commit()  # the link works before anyone can follow it
    reader = Recipient.of(member)
    kind = KINDS[row.purpose][0]
    facts: dict[str, str | datetime] = {
        "valid_until": row.expires_at,
        "email": member.email,
        "address": address,
    }
    button = {"action": link(settings, row.purpose, token)}
    try:
        message = as_email(compose(kind, facts, reader, links=button), reader, None)
        await ctx["mailer"].send(build_email(settings.smtp, address, message, row.id, clock()))
    except Undeliverable as exc:
        _stop(row, str(exc), clock())
    except TransientError as exc:
        if row.email_attempts >= MAX_EMAIL_ATTEMPTS:
            _stop(row, f"{MAX_EMAIL_ATTEMPTS} attempts failed, the last: {exc}", clock())
            return
        row.email_error = str(exc)[:ERROR_LENGTH]
        await session.commit()  # the attempt is counted; the event's retry sends it
        raise
    else:
        row.emailed_at = clock()
