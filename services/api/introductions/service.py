"""Introductions as a workflow: I ask X to introduce me to T; X forwards it (in their own
words) or declines; T accepts, which creates my invitation to T with X as a confirmed
referrer (and connects us at once if T rates me then), or declines. Only the three of us
see it."""

import uuid

from rapport_common.domain import privacy
from rapport_common.domain.privacy import Consent
from rapport_common.events import (
    IntroductionAcceptedV1,
    IntroductionDeclinedV1,
    IntroductionEventV1,
)
from rapport_common.models.enums import (
    IntroductionDecliner,
    IntroductionRole,
    IntroductionStatus,
    InvitationStatus,
    ReferralStatus,
)
from rapport_common.models.introductions import Introduction
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.repositories.blocks import BlockRepository
from rapport_common.web.problems import Conflict, Forbidden, NotFound, Problem
from services.api.introductions.repository import IntroductionRepository
from services.api.introductions.schemas import IntroductionIn
from services.api.invitations import sending, transitions
from services.api.invitations.context import InvitationContext
from services.api.policies.schemas import AcceptAction, Suggestion


class CannotIntroduce(Problem):
    status, slug, title = 422, "cannot-introduce", "This introduction cannot be asked for"


class IntroductionClosed(Conflict):
    slug, title = "introduction-closed", "Not possible in this state"


class NotYourTurn(Forbidden):
    slug, title = "not-your-turn", "Another member's move"


def _event(introduction: Introduction) -> dict[str, object]:
    return {
        "introduction_id": introduction.id,
        "requester_id": introduction.requester_id,
        "intermediary_id": introduction.intermediary_id,
        "target_id": introduction.target_id,
    }


async def request(
    ctx: InvitationContext,
    introductions: IntroductionRepository,
    me: Member,
    data: IntroductionIn,
) -> Introduction:
    if len({me.id, data.intermediary_id, data.target_id}) < 3:
        raise CannotIntroduce("You, the intermediary and the target must be three people.")
    members = await ctx.members.get_many({data.intermediary_id, data.target_id})
    blocks = BlockRepository(ctx.session)
    if (
        data.intermediary_id not in members
        or data.target_id not in members
        # Someone who blocked me is, to me, no member at all: the same answer.
        or await blocks.blocks(data.intermediary_id, me.id)
        or await blocks.blocks(data.target_id, me.id)
    ):
        raise NotFound("There is no such member.")
    intermediary, target = members[data.intermediary_id], members[data.target_id]
    for other in (intermediary, target):
        if await blocks.blocks(me.id, other.id):
            raise CannotIntroduce(f"You blocked {other.name}; unblock them first.")
    if not await ctx.connections.are_connected(me.id, intermediary.id):
        raise CannotIntroduce(f"Ask one of your connections; {intermediary.name} is not one.")
    # The same answer whether or not the intermediary knows a target the rule hides
    # from me: their link is checked only when I may see a way through them.
    if not privacy.may_see_way(
        [Consent.of(intermediary)], Consent.of(target)
    ) or not await ctx.connections.are_connected(intermediary.id, target.id):
        raise CannotIntroduce(f"{intermediary.name} cannot introduce you to {target.name}.")
    if await ctx.connections.are_connected(me.id, target.id):
        raise sending.AlreadyConnected(f"You and {target.name} are already connected.")
    if await introductions.open_for(me.id, target.id) is not None:
        raise Conflict(f"You already asked for an introduction to {target.name}.")
    introduction = await introductions.add(
        Introduction(
            requester_id=me.id,
            intermediary_id=intermediary.id,
            target_id=target.id,
            note=data.note,
            status=IntroductionStatus.REQUESTED,
            created_at=ctx.now,
        )
    )
    await record_event(
        ctx.session, "introduction.requested", IntroductionEventV1(**_event(introduction))
    )
    return introduction


def _require(
    introduction: Introduction,
    me: Member,
    role: IntroductionRole,
    status: IntroductionStatus,
    verb: str,
) -> None:
    if introduction.role_of(me.id) != role:
        raise NotYourTurn(f"Only the {role} can {verb} this introduction.")
    if introduction.status != status:
        raise IntroductionClosed(f"This introduction is {introduction.status}.")


async def _require_no_block(ctx: InvitationContext, introduction: Introduction) -> None:
    """Once two of the three blocked each other the introduction cannot go on (a block
    closes it; this covers a request racing the block)."""
    blocks = BlockRepository(ctx.session)
    pairs = (
        (introduction.requester_id, introduction.intermediary_id),
        (introduction.requester_id, introduction.target_id),
        (introduction.intermediary_id, introduction.target_id),
    )
    for a, b in pairs:
        if await blocks.between(a, b):
            raise IntroductionClosed("This introduction can no longer go ahead.")


async def forward(
    ctx: InvitationContext, introduction: Introduction, me: Member, note: str
) -> None:
    _require(
        introduction, me, IntroductionRole.INTERMEDIARY, IntroductionStatus.REQUESTED, "forward"
    )
    await _require_no_block(ctx, introduction)
    introduction.status = IntroductionStatus.FORWARDED
    introduction.intermediary_note = note
    await record_event(
        ctx.session, "introduction.forwarded", IntroductionEventV1(**_event(introduction))
    )


async def decline(ctx: InvitationContext, introduction: Introduction, me: Member) -> None:
    if introduction.role_of(me.id) == IntroductionRole.INTERMEDIARY:
        _require(
            introduction, me, IntroductionRole.INTERMEDIARY, IntroductionStatus.REQUESTED, "decline"
        )
        decliner = IntroductionDecliner.INTERMEDIARY
    else:
        _require(introduction, me, IntroductionRole.TARGET, IntroductionStatus.FORWARDED, "decline")
        decliner = IntroductionDecliner.TARGET
    introduction.status = IntroductionStatus.DECLINED
    introduction.declined_by = decliner
    await record_event(
        ctx.session,
        "introduction.declined",
        IntroductionDeclinedV1(**_event(introduction), declined_by=decliner),
    )


async def accept(
    ctx: InvitationContext, introduction: Introduction, me: Member, rating: int | None
) -> None:
    """The target agrees: the requester's invitation is created, introduced and
    confirmed; with the target's rating of the requester it is accepted at once."""
    _require(introduction, me, IntroductionRole.TARGET, IntroductionStatus.FORWARDED, "accept")
    await _require_no_block(ctx, introduction)
    members = await ctx.members.get_many({introduction.requester_id, introduction.intermediary_id})
    invitation = await _create_introduced(
        ctx,
        members[introduction.requester_id],
        me,
        members[introduction.intermediary_id],
        introduction,
    )
    introduction.status = IntroductionStatus.ACCEPTED
    introduction.invitation_id = invitation.id
    await record_event(
        ctx.session,
        "introduction.accepted",
        IntroductionAcceptedV1(**_event(introduction), invitation_id=invitation.id),
    )
    if rating is not None:
        await transitions.accept(ctx, invitation, rating, None)


async def _create_introduced(
    ctx: InvitationContext,
    requester: Member,
    target: Member,
    intermediary: Member,
    introduction: Introduction,
) -> Invitation:
    """The invitation the target asked for by accepting: the intermediary's word stands
    as a confirmed referral, no sending limit applies, and the target's policy is not
    asked, since the target has already said yes."""
    state = await ctx.invitations.pair_state(requester.id, target.id)
    if state.connected:
        raise sending.AlreadyConnected(f"You and {requester.name} are already connected.")
    if state.open_invitation_id is not None:
        raise sending.InvitationExists(
            f"An invitation between you and {requester.name} is already open; answer it.",
            invitation_id=str(state.open_invitation_id),
        )
    suggestion = Suggestion(
        action=AcceptAction(),
        rule="introduction",
        matched=True,
        automatic=False,
        reasons=[f"you accepted the introduction from {intermediary.name}"],
    )
    invitation = Invitation(
        id=uuid.uuid4(),
        inviter_id=requester.id,
        invitee_id=target.id,
        note=introduction.note,
        how_we_met="never_met",
        referrer_id=intermediary.id,
        referral_status=ReferralStatus.CONFIRMED,
        introduction_id=introduction.id,
        status=InvitationStatus.PENDING,
        created_at=ctx.now,
        suggestion=suggestion.model_dump(mode="json"),
    )
    await sending.add_and_announce(ctx, invitation, requester)
    return invitation
