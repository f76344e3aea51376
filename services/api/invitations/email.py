"""Inviting by email address: one answer whoever the address belongs to.

A member found by that exact address (who allows being found by email) gets an
ordinary invitation, hidden from the sender until accepted; an address of no member gets
one join email, at most one per address per ``per_address_days`` from all senders; any
other address gets nothing more. The sender sees the same status, body, headers and
lists in every case (docs/privacy.md, "Email addresses").
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from rapport_common.domain import email_links
from rapport_common.events import EmailInvitationSentV1
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.enums import InvitationStatus, ReferralStatus
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.repositories.blocks import BlockRepository
from rapport_common.repositories.do_not_contact import DoNotContactRepository
from rapport_common.web.problems import Conflict, NotFound, Problem
from services.api.email_invitations.repository import EmailInvitationRepository
from services.api.invitations import availability, sending, transitions
from services.api.invitations.context import InvitationContext
from services.api.invitations.limits import Quota, take_quota
from services.api.invitations.schemas import (
    EmailInvitationOut,
    EmailInvitationStatus,
    InvitationIn,
)
from services.api.pagination import Page, window


class EmailInvitationClosed(Conflict):
    slug, title = "email-invitation-closed", "The invitation by email is closed"


def address_hash(ctx: InvitationContext, address: str) -> str:
    key = ctx.settings.email_invitations.address_key.get_secret_value()
    return email_links.address_hash(key, address)


def status_of(
    invitation: EmailInvitation, became: InvitationStatus | None, now: datetime
) -> EmailInvitationStatus:
    """What the sender sees, the same for a member and for anyone else: accepted only
    once the invitation it became was accepted; a quiet decline stays ``sent``."""
    if became == InvitationStatus.ACCEPTED:
        return "accepted"
    if invitation.withdrawn_at is not None:
        return "withdrawn"
    if invitation.expires_at <= now:
        return "expired"
    return "sent"


async def may_invite_quietly(ctx: InvitationContext, inviter: Member, invitee: Member) -> bool:
    """An invitation by id would be possible, no block stands either way, and no
    invitation by email from this inviter is open or was declined within the invitee's
    cool-down."""
    if await BlockRepository(ctx.session).between(inviter.id, invitee.id):
        return False
    found = await availability.invitation_state(ctx, inviter, invitee, by_email=True)
    return found.state == "possible" and found.masked_invitation_id is None


async def invite_quietly(
    ctx: InvitationContext, inviter: Member, invitee: Member, invitation: EmailInvitation
) -> Invitation | None:
    """The member's invitation, with their policy's suggestion and none of its automatic
    actions (an automatic decline would tell the sender, by its note, whose address it
    is). None when it cannot be sent; nothing tells the sender why."""
    if not await may_invite_quietly(ctx, inviter, invitee):
        return None
    created = Invitation(
        inviter_id=inviter.id,
        invitee_id=invitee.id,
        note=invitation.note,
        how_we_met=invitation.how_we_met,
        referral_status=ReferralStatus.NONE,
        email_invitation_id=invitation.id,
    )
    try:
        # A savepoint: an invitation the invitee sent at the same moment must not turn
        # this request into the 409 an address of no member never gets.
        async with ctx.session.begin_nested():
            await sending.create(ctx, inviter, invitee, created)
    except (IntegrityError, Problem):
        return None
    invitation.invitation_id = created.id
    return created


async def send_by_email(
    ctx: InvitationContext, inviter: Member, data: InvitationIn
) -> tuple[EmailInvitation, Quota]:
    """Every address takes the same steps in the same order, so the answer (and the
    work done before it) does not depend on whose address it is."""
    assert data.to_email is not None
    address = email_links.normalise(data.to_email)
    if address == inviter.email:
        raise sending.CannotInvite("You cannot invite yourself.")
    quota = await take_quota(ctx.invitations, ctx.settings.invitations, inviter.id, ctx.now)
    hashed = address_hash(ctx, address)
    repository = EmailInvitationRepository(ctx.session)
    await repository.lock_address(hashed)
    settings = ctx.settings.email_invitations
    invitation = await repository.add(
        EmailInvitation(
            id=uuid.uuid4(),
            inviter_id=inviter.id,
            address=address,
            address_hash=hashed,
            note=data.note,
            how_we_met=data.how_we_met,
            join_email=False,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(days=settings.link_days),
        )
    )
    member = await ctx.members.get_by_email(address)
    if member is not None:
        if member.findable_by_email:
            await invite_quietly(ctx, inviter, member, invitation)
    elif not await DoNotContactRepository(ctx.session).contains(
        hashed
    ) and not await repository.join_email_since(
        hashed, ctx.now - timedelta(days=settings.per_address_days)
    ):
        invitation.join_email = True
    await ctx.session.flush()
    await record_event(
        ctx.session,
        "email_invitation.sent",
        EmailInvitationSentV1(email_invitation_id=invitation.id, inviter_id=inviter.id),
    )
    return invitation, quota


async def page_for(
    ctx: InvitationContext,
    inviter: Member,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Page[EmailInvitationOut]:
    rows = await EmailInvitationRepository(ctx.session).page_for(inviter.id, limit, after)
    found = window(rows, limit, lambda row: (row[0].created_at, row[0].id))
    return found.page([render(sent, became, ctx.now) for sent, became in found.rows])


def render(
    invitation: EmailInvitation, became: InvitationStatus | None, now: datetime
) -> EmailInvitationOut:
    return EmailInvitationOut(
        email_invitation_id=invitation.id,
        email=invitation.address,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        status=status_of(invitation, became, now),
    )


async def withdraw(
    ctx: InvitationContext, inviter: Member, email_invitation_id: uuid.UUID
) -> EmailInvitationOut:
    """Take it back: the join link stops working, and the invitation it became for a
    member, if still open, is closed as quietly as it was sent."""
    repository = EmailInvitationRepository(ctx.session)
    invitation = await repository.get(email_invitation_id, for_update=True)
    if invitation is None or invitation.inviter_id != inviter.id:
        raise NotFound(f"You have no invitation by email {email_invitation_id}.")
    became = (
        await ctx.invitations.get(invitation.invitation_id, for_update=True)
        if (invitation.invitation_id is not None)
        else None
    )
    status = status_of(invitation, became.status if became else None, ctx.now)
    if status != "sent":
        raise EmailInvitationClosed(f"This invitation by email is already {status}.")
    invitation.withdrawn_at = ctx.now
    if became is not None and became.is_open:
        await transitions.close_quietly(ctx, became)
    return render(invitation, became.status if became else None, ctx.now)
