"""Introductions as a workflow: I ask X to introduce me to T; X forwards it (in their own
words) or declines; T accepts, which creates my invitation to T with X as a confirmed
referrer, or declines. Only the three of us see it."""

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
)
from rapport_common.models.introductions import Introduction
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.web.problems import Conflict, Forbidden, NotFound, Problem
from services.api.introductions.repository import IntroductionRepository
from services.api.introductions.schemas import IntroductionIn
from services.api.invitations import sending
from services.api.invitations.context import InvitationContext


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
    if data.intermediary_id not in members or data.target_id not in members:
        raise NotFound("There is no such member.")
    intermediary, target = members[data.intermediary_id], members[data.target_id]
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


async def forward(
    ctx: InvitationContext, introduction: Introduction, me: Member, note: str
) -> None:
    _require(
        introduction, me, IntroductionRole.INTERMEDIARY, IntroductionStatus.REQUESTED, "forward"
    )
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


async def accept(ctx: InvitationContext, introduction: Introduction, me: Member) -> None:
    """The target agrees: the requester's invitation is created, introduced and confirmed."""
    _require(introduction, me, IntroductionRole.TARGET, IntroductionStatus.FORWARDED, "accept")
    members = await ctx.members.get_many({introduction.requester_id, introduction.intermediary_id})
    invitation = await sending.send_introduced(
        ctx,
        members[introduction.requester_id],
        me,
        members[introduction.intermediary_id],
        introduction.note,
        introduction.id,
    )
    introduction.status = IntroductionStatus.ACCEPTED
    introduction.invitation_id = invitation.id
    await record_event(
        ctx.session,
        "introduction.accepted",
        IntroductionAcceptedV1(**_event(introduction), invitation_id=invitation.id),
    )
