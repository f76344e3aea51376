"""Sending an invitation: the checks, the referral claim, and the invitee's policy."""

import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from rapport_common.events import InvitationSentV1
from rapport_common.models.enums import InvitationStatus, ReferralStatus
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.web.problems import Conflict, NotFound, Problem
from services.api.invitations import transitions
from services.api.invitations.context import InvitationContext
from services.api.invitations.limits import Quota, take_quota
from services.api.invitations.schemas import InvitationIn
from services.api.policies.schemas import Suggestion


class CannotInvite(Problem):
    status, slug, title = 422, "cannot-invite", "This invitation cannot be sent"


class AlreadyConnected(Conflict):
    slug, title = "already-connected", "Already connected"


class InvitationExists(Conflict):
    slug, title = "invitation-exists", "An invitation is already open"


class ReinviteBlocked(Conflict):
    slug, title = "reinvite-blocked", "Too soon to invite again"


async def _check_referral(
    ctx: InvitationContext, inviter: Member, data: InvitationIn
) -> ReferralStatus:
    """``false_claim`` when the referrer does not know the invitee, else ``unverified``
    (the referrer is asked to confirm, and may deny); ``none`` without a referrer.

    Only the referrer-invitee link decides, because the invitee sees the status and is
    an end of that link; the referrer-inviter link is the referrer's to answer for. The
    invitee's policy never acts on the check (``privacy.referral_fact``), so the sender
    sees the same either way. Checked against the connections in PostgreSQL, the system
    of record, so a connection made a moment ago already counts."""
    referrer_id = data.referred_by_member_id
    if referrer_id is None:
        return ReferralStatus.NONE
    if referrer_id in (inviter.id, data.to_member_id):
        raise CannotInvite("The referrer must be someone other than you and the invitee.")
    if await ctx.members.get(referrer_id) is None:
        raise NotFound(f"There is no member {referrer_id} to name as referrer.")
    knows_invitee = await ctx.connections.are_connected(referrer_id, data.to_member_id)
    return ReferralStatus.UNVERIFIED if knows_invitee else ReferralStatus.FALSE_CLAIM


async def _check_pair(ctx: InvitationContext, inviter: Member, invitee: Member) -> None:
    state = await ctx.invitations.pair_state(inviter.id, invitee.id)
    if state.connected:
        raise AlreadyConnected(f"You and {invitee.name} are already connected.")
    if state.open_invitation_id is not None:
        mine = state.open_invitation_inviter_id == inviter.id
        raise InvitationExists(
            f"You already invited {invitee.name}; wait for their answer."
            if mine
            else f"{invitee.name} already invited you; accept or decline their invitation.",
            invitation_id=str(state.open_invitation_id),
        )
    withdrawn_at = state.last_withdrawn_at
    block = timedelta(days=ctx.settings.invitations.reinvite_block_days)
    if withdrawn_at is not None and withdrawn_at + block > ctx.now:
        until = withdrawn_at + block
        raise ReinviteBlocked(
            f"You withdrew an invitation to {invitee.name}; you can invite them again from "
            f"{until:%Y-%m-%d %H:%M} UTC.",
            headers={"Retry-After": str(int((until - ctx.now).total_seconds()) + 1)},
            blocked_until=until.isoformat(),
        )


async def send(
    ctx: InvitationContext, inviter: Member, data: InvitationIn
) -> tuple[Invitation, Quota]:
    if data.to_member_id == inviter.id:
        raise CannotInvite("You cannot invite yourself.")
    invitee = await ctx.members.get(data.to_member_id)
    if invitee is None:
        raise NotFound(f"There is no member {data.to_member_id}.")
    referral_status = await _check_referral(ctx, inviter, data)
    quota = await take_quota(ctx.invitations, ctx.settings.invitations, inviter.id, ctx.now)
    invitation = Invitation(
        inviter_id=inviter.id,
        invitee_id=invitee.id,
        note=data.note,
        how_we_met=data.how_we_met,
        inviter_rating=data.my_rating,
        referrer_id=data.referred_by_member_id,
        referral_status=referral_status,
    )
    suggestion = await _create(ctx, inviter, invitee, invitation)
    if referral_status != ReferralStatus.NONE:
        # An unverified claim asks the referrer; the others are already an outcome.
        outcome = "requested" if referral_status == ReferralStatus.UNVERIFIED else referral_status
        await transitions.record_referral(ctx, invitation, outcome)
    await transitions.act_if_automatic(ctx, invitation, suggestion)
    return invitation, quota


async def send_introduced(
    ctx: InvitationContext,
    requester: Member,
    target: Member,
    intermediary: Member,
    note: str,
    introduction_id: uuid.UUID,
) -> Invitation:
    """The invitation a target asks for by accepting an introduction: the intermediary's
    word stands as a confirmed referral, and no sending limit applies."""
    invitation = Invitation(
        inviter_id=requester.id,
        invitee_id=target.id,
        note=note,
        how_we_met="never_met",
        referrer_id=intermediary.id,
        referral_status=ReferralStatus.CONFIRMED,
        introduction_id=introduction_id,
    )
    suggestion = await _create(ctx, requester, target, invitation)
    await transitions.act_if_automatic(ctx, invitation, suggestion)
    return invitation


async def _create(
    ctx: InvitationContext, inviter: Member, invitee: Member, invitation: Invitation
) -> Suggestion:
    """Store the invitation, with its suggestion already on it (one INSERT, no UPDATE)."""
    await _check_pair(ctx, inviter, invitee)
    invitation.id = uuid.uuid4()
    invitation.status = InvitationStatus.PENDING
    invitation.created_at = ctx.now
    suggestion = await transitions.suggest(ctx, invitation)
    try:
        # No savepoint: on a conflict the whole request fails anyway, with a 409.
        await ctx.invitations.add(invitation)
    except IntegrityError as exc:  # the invitee sent theirs at the same moment
        raise InvitationExists(f"An invitation between you and {invitee.name} is open.") from exc
    await record_event(
        ctx.session,
        "invitation.sent",
        InvitationSentV1(
            invitation_id=invitation.id,
            inviter_id=inviter.id,
            invitee_id=invitee.id,
            how_we_met=invitation.how_we_met,
            referrer_id=invitation.referrer_id,
        ),
    )
    return suggestion
