"""The one email an address gets when a member invites it and it is no member yet: who
invites, their note, a signed link to join, and a link to stop every email from Rapport."""

from datetime import datetime
from string import Template
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.domain import email_links
from rapport_common.events import (
    HOW_WE_MET_PHRASES,
    EmailInvitationSentV1,
    EventEnvelope,
    parse_payload,
)
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.members import Member
from rapport_common.repositories.do_not_contact import DoNotContactRepository
from rapport_common.settings import Settings
from services.notifier.clock import clock_of
from services.notifier.errors import TransientError
from services.notifier.notifications import catalogue
from services.notifier.notifications.layout import Footer, as_email
from services.notifier.notifications.mailer import Undeliverable, build_email
from services.notifier.notifications.messages import Fact, Message, Recipient, compose
from services.notifier.notifications.store import DO_NOT_CONTACT, count_failure, give_up

JOIN_EMAIL = "join_email"


def join_links(settings: Settings, invitation: EmailInvitation) -> tuple[str, str]:
    """The join link (expiring with the invitation) and the stop link (never expiring,
    carrying the address's hash, not the address)."""
    keys = settings.email_invitations
    link_key = keys.link_key.get_secret_value()
    public = settings.api.public_url.rstrip("/")
    join = email_links.sign(link_key, "join", str(invitation.id), invitation.expires_at)
    stop = email_links.sign(link_key, "stop", invitation.address_hash, None)
    return (
        keys.join_url.format(public=public, token=join),
        keys.stop_url.format(public=public, token=stop),
    )


def join_message(
    inviter: Member, invitation: EmailInvitation, join_url: str, stop_url: str
) -> Message:
    """The join email, in English (the address has no language we know): the inviter,
    their note quoted as written, the join button, and the stop link in the footer."""
    reader = Recipient("")
    facts: dict[str, Fact] = {
        "inviter": inviter.name,
        "inviter_headline": inviter.headline or "",
        "note": invitation.note,
        "how_we_met": HOW_WE_MET_PHRASES.get(invitation.how_we_met, invitation.how_we_met),
        "expires_at": invitation.expires_at,
    }
    message = compose(JOIN_EMAIL, facts, reader, links={"action": join_url})
    footer = join_footer(inviter.name, stop_url, reader)
    return as_email(message, reader, None, footer=footer, greet=False)


def join_footer(inviter_name: str, stop_url: str, reader: Recipient) -> Footer:
    """Why the address got this email, and the link that stops every email to it."""
    texts = catalogue.texts(JOIN_EMAIL, reader.locale).phrases
    return Footer(
        note=Template(texts["footer"]).safe_substitute(inviter=inviter_name),
        url=stop_url,
        link_text=texts["stop_link"],
        link_intro=texts["stop_intro"],
    )


async def _due(session: AsyncSession, email_invitation_id: Any) -> EmailInvitation | None:
    """The row, locked, if its join email is due and not yet sent or given up; a row
    locked by another worker is being sent, so it is skipped."""
    query = (
        select(EmailInvitation)
        .where(
            EmailInvitation.id == email_invitation_id,
            EmailInvitation.join_email.is_(True),
            EmailInvitation.emailed_at.is_(None),
            EmailInvitation.email_failed_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalar_one_or_none()


def concerns(envelope: EventEnvelope) -> bool:
    """Whether ``send_join_email`` has anything to do with the event."""
    return envelope.type == "email_invitation.sent"


async def send_join_email(
    ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession
) -> None:
    """Send the join email of an ``email_invitation.sent`` event, if one is due.

    Idempotent: the row is locked while its email goes out and ``emailed_at`` is
    committed right after the SMTP server accepts it, so a rerun finds nothing due. The
    do-not-contact list is read again here, since the address may have asked to stop
    since the invitation was sent."""
    if not concerns(envelope):
        return
    event = parse_payload(envelope)
    assert isinstance(event, EmailInvitationSentV1)
    settings: Settings = ctx["settings"]
    clock = clock_of(ctx)
    invitation = await _due(session, event.email_invitation_id)
    if invitation is None:
        return
    inviter = await session.get(Member, invitation.inviter_id)
    if invitation.address is None or inviter is None:
        give_up(invitation, "the address or the inviter is gone", clock())
    elif await DoNotContactRepository(session).contains(invitation.address_hash):
        give_up(invitation, DO_NOT_CONTACT, clock())
    else:
        await _send(ctx, settings, session, invitation, inviter, clock())
    await session.commit()


async def _send(
    ctx: dict[str, Any],
    settings: Settings,
    session: AsyncSession,
    invitation: EmailInvitation,
    inviter: Member,
    now: datetime,
) -> None:
    assert invitation.address is not None
    join_url, stop_url = join_links(settings, invitation)
    invitation.email_attempts += 1
    try:
        email = build_email(
            settings.smtp,
            invitation.address,
            join_message(inviter, invitation, join_url, stop_url),
            invitation.id,
            now,
        )
        # RFC 8058: a mail client may offer the stop link as a one-click unsubscribe.
        email["List-Unsubscribe"] = f"<{stop_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        await ctx["mailer"].send(email)
    except Undeliverable as exc:
        give_up(invitation, str(exc), now)
    except TransientError as exc:
        count_failure(invitation, exc, now)
        await session.commit()  # the attempt is counted; the event's retry sends it
        raise
    else:
        invitation.emailed_at = now
