"""Join links and stop links: what the owner of an invited address may do, and the
invitations waiting for them when they register."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.domain import email_links
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.members import Member
from rapport_common.repositories.do_not_contact import DoNotContactRepository
from rapport_common.repositories.members import MemberRepository
from rapport_common.settings import Settings
from rapport_common.web.problems import Conflict, NotFound, Problem
from services.api.email_invitations.repository import EmailInvitationRepository
from services.api.email_invitations.schemas import JoinOut
from services.api.invitations import email
from services.api.invitations.context import InvitationContext
from services.api.schemas import ContactOut


class JoinLinkInvalid(NotFound):
    slug, title = "join-link-invalid", "No such join link"


class JoinLinkExpired(Problem):
    status, slug, title = 410, "join-link-expired", "The join link has expired"


class JoinLinkUsed(Conflict):
    slug, title = "join-link-used", "The join link was used"


class JoinTokenMismatch(Problem):
    status, slug, title = 422, "join-token-mismatch", "The join link is for another address"


class StopLinkInvalid(NotFound):
    slug, title = "stop-link-invalid", "No such stop link"


def _link_key(settings: Settings) -> str:
    return settings.email_invitations.link_key.get_secret_value()


async def _invitation_of(
    session: AsyncSession, settings: Settings, token: str, now: datetime
) -> EmailInvitation:
    """The invitation a join token names, still usable: signed by us, not expired, not
    withdrawn by its sender, not used to register."""
    invalid = JoinLinkInvalid("This is not a join link of ours; check that it was copied whole.")
    try:
        subject = email_links.verify(_link_key(settings), "join", token, now)
        email_invitation_id = uuid.UUID(subject)
    except email_links.ExpiredLink as exc:
        raise JoinLinkExpired(
            "This join link has expired; you can still register, without the link."
        ) from exc
    except (email_links.InvalidLink, ValueError) as exc:
        raise invalid from exc
    invitation = await EmailInvitationRepository(session).get(email_invitation_id)
    if invitation is None or invitation.withdrawn_at is not None:
        raise invalid
    if invitation.redeemed_at is not None:
        raise JoinLinkUsed("This join link was used to register already; sign in instead.")
    return invitation


async def read_join(
    session: AsyncSession, settings: Settings, token: str, now: datetime
) -> JoinOut:
    invitation = await _invitation_of(session, settings, token, now)
    inviter = await MemberRepository(session).get(invitation.inviter_id)
    assert inviter is not None  # the row goes with its inviter (ON DELETE CASCADE)
    return JoinOut(
        inviter=ContactOut.from_member(inviter),
        note=invitation.note,
        how_we_met=invitation.how_we_met,
        expires_at=invitation.expires_at,
    )


async def check_join_token(
    session: AsyncSession, settings: Settings, token: str, address: str, now: datetime
) -> None:
    """Before registering with a join token: it must be usable and for this address."""
    invitation = await _invitation_of(session, settings, token, now)
    key = settings.email_invitations.address_key.get_secret_value()
    if invitation.address_hash != email_links.address_hash(key, address):
        raise JoinTokenMismatch(
            "This join link was sent to another address; register with the address that "
            "received it, or without the link."
        )


async def claim_for(ctx: InvitationContext, member: Member) -> None:
    """Turn the live invitations to a new member's address into invitations to them,
    the latest from each inviter, each suggested on by their policy; every join link to
    the address is used up."""
    hashed = email.address_hash(ctx, member.email)
    repository = EmailInvitationRepository(ctx.session)
    await repository.lock_address(hashed)
    inviters: set[uuid.UUID] = set()
    for invitation in await repository.unclaimed(hashed, ctx.now):  # newest first
        invitation.redeemed_at = ctx.now
        if invitation.inviter_id in inviters:
            continue
        inviters.add(invitation.inviter_id)
        inviter = await ctx.members.get(invitation.inviter_id)
        if inviter is not None:
            await email.invite_quietly(ctx, inviter, member, invitation)


async def stop(session: AsyncSession, settings: Settings, token: str, now: datetime) -> None:
    """Add the address a stop token names (by its hash: the token never held the
    address) to the do-not-contact list. Idempotent."""
    try:
        address_hash = email_links.verify(_link_key(settings), "stop", token, now)
    except (email_links.InvalidLink, email_links.ExpiredLink) as exc:
        raise StopLinkInvalid(
            "This is not a stop link of ours; check that it was copied whole."
        ) from exc
    await DoNotContactRepository(session).add(address_hash, now)
