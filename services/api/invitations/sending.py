"""Sending an invitation: the checks, the referral claim, and the invitee's policy."""

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from rapport_common.events import InvitationSentV1
from rapport_common.models.enums import InvitationStatus, ReferralStatus
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.outbox import event_values
from rapport_common.repositories.blocks import BlockRepository
from rapport_common.web.problems import Conflict, NotFound, Problem
from services.api.invitations import availability, transitions
from services.api.invitations.availability import Availability
from services.api.invitations.context import InvitationContext
from services.api.invitations.limits import Quota, check_quota, record_windows
from services.api.invitations.schemas import InvitationIn
from services.api.policies.schemas import Suggestion
from services.api.policies.service import StoredPolicy, stored_policy


class CannotInvite(Problem):
    status, slug, title = 422, "cannot-invite", "This invitation cannot be sent"


class AlreadyConnected(Conflict):
    slug, title = "already-connected", "Already connected"


class InvitationExists(Conflict):
    slug, title = "invitation-exists", "An invitation is already open"


# What the invitation's insert may violate (SQLSTATEs and constraint names).
UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION = "23505", "23503"
OPEN_PAIR = "uq_invitations_open_pair"
REFERRER_KEY = "fk_invitations_referrer_id_members"


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
    referrer_id, invitee_id = data.referred_by_member_id, data.to_member_id
    if referrer_id is None or invitee_id is None:  # by email, no referral is checked
        return ReferralStatus.NONE
    if referrer_id in (inviter.id, invitee_id):
        raise CannotInvite("The referrer must be someone other than you and the invitee.")
    referrer = await ctx.members.get(referrer_id)
    if referrer is None or await BlockRepository(ctx.session).blocks(referrer_id, inviter.id):
        raise NotFound(f"There is no member {referrer_id} to name as referrer.")
    knows_invitee = await ctx.connections.are_connected(referrer_id, invitee_id)
    return ReferralStatus.UNVERIFIED if knows_invitee else ReferralStatus.FALSE_CLAIM


class DeclinedRecently(Conflict):
    slug, title = "declined-recently", "They declined your last invitation"


class YouBlockedMember(Problem):
    status, slug, title = 422, "you-blocked-member", "You blocked this member"


def refuse_unless_possible(ctx: InvitationContext, invitee: Member, found: Availability) -> None:
    """Raise the problem that says why an invitation to ``invitee`` is not possible."""
    match found.state:
        case "connected":
            raise AlreadyConnected(f"You and {invitee.name} are already connected.")
        case "sent" | "received":
            raise InvitationExists(
                f"You already invited {invitee.name}; wait for their answer."
                if found.state == "sent"
                else f"{invitee.name} already invited you; accept or decline their invitation.",
                invitation_id=str(found.invitation_id),
            )
        case "withdrawn_recently":
            assert found.possible_from is not None
            until = found.possible_from
            raise ReinviteBlocked(
                f"You withdrew an invitation to {invitee.name}; you can invite them again "
                f"from {until:%Y-%m-%d %H:%M} UTC.",
                headers={"Retry-After": _seconds_until(ctx, until)},
                blocked_until=until.isoformat(),
            )
        case "declined_recently":
            if found.possible_from is None:
                raise DeclinedRecently(
                    f"{invitee.name} declined your last invitation and chose not to be "
                    "invited again by the same member.",
                    blocked_until=None,
                )
            raise DeclinedRecently(
                f"{invitee.name} declined your last invitation; you can invite them again "
                f"from {found.possible_from:%Y-%m-%d %H:%M} UTC.",
                headers={"Retry-After": _seconds_until(ctx, found.possible_from)},
                blocked_until=found.possible_from.isoformat(),
            )
        case "blocked_by_me":
            raise YouBlockedMember(
                f"You blocked {invitee.name}; unblock them first to invite them."
            )


def _seconds_until(ctx: InvitationContext, until: datetime) -> str:
    return str(int((until - ctx.now).total_seconds()) + 1)


async def send(
    ctx: InvitationContext, inviter: Member, data: InvitationIn
) -> tuple[Invitation, Quota]:
    """The locked send (``quick_send`` sends the usual one): three round trips before
    the insert: the invitee with the blocks, their policy and the inviter's send lock;
    the referral, if one is named; then, in a statement of its own after the lock, the
    sending record and the pair's state."""
    assert data.to_member_id is not None
    if data.to_member_id == inviter.id:
        raise CannotInvite("You cannot invite yourself.")
    found = await ctx.invitations.invitee_for_send(inviter.id, data.to_member_id)
    # A member who blocked me answers as one who does not exist, before anything else.
    if found is None or found[1]:
        raise NotFound(f"There is no member {data.to_member_id}.")
    invitee, _, blocked_by_me, policy = found
    referral_status = await _check_referral(ctx, inviter, data)
    settings = ctx.settings.invitations
    record, pair = await ctx.invitations.record_and_pair(
        inviter.id, invitee.id, *record_windows(settings, ctx.now), ctx.now
    )
    # The statement that took the send lock read the blocks as they were before it
    # waited; a block that held the lock meanwhile (blocks.service.block) is seen now.
    blocks = BlockRepository(ctx.session)
    if not blocked_by_me and await blocks.between(inviter.id, invitee.id):
        if await blocks.blocks(invitee.id, inviter.id):
            raise NotFound(f"There is no member {data.to_member_id}.")
        blocked_by_me = True
    quota = await check_quota(ctx.invitations, settings, inviter.id, ctx.now, record)
    state = (
        Availability("blocked_by_me")
        if blocked_by_me
        else availability.judge(ctx, inviter.id, invitee, pair)
    )
    invitation = Invitation(
        inviter_id=inviter.id,
        invitee_id=invitee.id,
        note=data.note,
        how_we_met=data.how_we_met,
        inviter_rating=data.my_rating,
        referrer_id=data.referred_by_member_id,
        referral_status=referral_status,
    )
    suggestion = await create(ctx, inviter, invitee, invitation, state, stored_policy(policy))
    if referral_status != ReferralStatus.NONE:
        # An unverified claim asks the referrer; the others are already an outcome.
        outcome = "requested" if referral_status == ReferralStatus.UNVERIFIED else referral_status
        await transitions.record_referral(ctx, invitation, outcome)
    await transitions.act_if_automatic(ctx, invitation, suggestion)
    return invitation, quota


async def create(
    ctx: InvitationContext,
    inviter: Member,
    invitee: Member,
    invitation: Invitation,
    found: Availability | None = None,
    policy: StoredPolicy | None = None,
) -> Suggestion:
    """Store the invitation, with its suggestion already on it (one INSERT, no UPDATE).
    ``found`` and ``policy``: the pair's availability and the invitee's policy, when the
    caller already read them.

    An invitation by id first closes, quietly, the inviter's invitation by email still
    open to the same member: the sender cannot see it, and it would be in the way."""
    if found is None:
        found = await availability.invitation_state(ctx, inviter, invitee)
    refuse_unless_possible(ctx, invitee, found)
    if found.masked_invitation_id is not None and invitation.email_invitation_id is None:
        masked = await ctx.invitations.get(found.masked_invitation_id, for_update=True)
        assert masked is not None
        await transitions.close_quietly(ctx, masked)
        await ctx.session.flush()  # out of the open-pair index before the new one goes in
    invitation.id = uuid.uuid4()
    invitation.status = InvitationStatus.PENDING
    invitation.created_at = ctx.now
    suggestion = await transitions.suggest(ctx, invitation, policy)
    await add_and_announce(ctx, invitation, invitee)
    return suggestion


async def add_and_announce(ctx: InvitationContext, invitation: Invitation, other: Member) -> None:
    """Store a new invitation and record ``invitation.sent``, in one statement; 409 if
    the pair already has an open one (``other`` is the member named in that answer),
    404 if a member it names is gone."""
    event = event_values(
        "invitation.sent",
        InvitationSentV1(
            invitation_id=invitation.id,
            inviter_id=invitation.inviter_id,
            invitee_id=invitation.invitee_id,
            how_we_met=invitation.how_we_met,
            referrer_id=invitation.referrer_id,
        ),
    )
    try:
        # No savepoint: on a conflict the whole request fails anyway.
        await ctx.writes.insert(invitation, [event])
    except IntegrityError as exc:
        sqlstate = getattr(exc.orig, "sqlstate", None)
        # asyncpg's own error, which names the constraint, is the adapter's cause.
        constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
        if sqlstate == UNIQUE_VIOLATION and constraint == OPEN_PAIR:
            # The other side sent theirs at the same moment.
            raise InvitationExists(f"An invitation between you and {other.name} is open.") from exc
        if sqlstate == FOREIGN_KEY_VIOLATION:
            # A member it names deleted their account after the read (or while the
            # insert waited on their row): answered as a send a moment later is.
            if constraint == REFERRER_KEY:
                raise NotFound(
                    f"There is no member {invitation.referrer_id} to name as referrer."
                ) from exc
            raise NotFound(f"There is no member {invitation.invitee_id}.") from exc
        raise
