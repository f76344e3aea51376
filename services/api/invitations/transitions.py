"""What each member may do to an open invitation, and what their policy does by itself.

Every transition records its outbox event in the request's transaction.
"""

from datetime import datetime, timedelta
from typing import Any

from rapport_common.domain import privacy
from rapport_common.domain.invitations import event_ref
from rapport_common.events import (
    ConnectionCreatedV1,
    InvitationAcceptedV1,
    InvitationDeclinedV1,
    InvitationDeferredV1,
    InvitationEventV1,
    InvitationQuestionAskedV1,
    InvitationReportedV1,
    ReferralEventV1,
)
from rapport_common.models.connections import Connection
from rapport_common.models.enums import InvitationStatus, ReferralStatus, ReportReason
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.outbox import event_values, record_event
from rapport_common.web.problems import Conflict, Forbidden
from services.api.invitations.context import InvitationContext
from services.api.policies import service as policies
from services.api.policies import templates
from services.api.policies.evaluation import InvitationFacts, evaluate, needs_mutuals
from services.api.policies.presets import POLITE_DECLINE
from services.api.policies.schemas import (
    AcceptAction,
    AskAction,
    DeclineAction,
    LaterAction,
    PolicyIn,
    Suggestion,
)
from services.api.schemas import NOTE_MAX_LENGTH, from_storage


class InvitationClosed(Conflict):
    slug, title = "invitation-closed", "The invitation is closed"


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "Not possible in this state"


class NotYourMove(Forbidden):
    slug, title = "not-your-move", "The other member's move"


class InvitationByEmail(Conflict):
    slug, title = "invitation-by-email", "Not possible for an invitation sent by email"


def require_role(invitation: Invitation, member: Member, role: str, action: str) -> None:
    if invitation.role_of(member.id) != role:
        raise NotYourMove(f"Only the {role} can {action} this invitation.")


def require_open(invitation: Invitation) -> None:
    if not invitation.is_open:
        raise InvitationClosed(f"This invitation is already {invitation.status}.")


def _close(ctx: InvitationContext, invitation: Invitation, status: InvitationStatus) -> None:
    invitation.status = status
    invitation.closed_at = ctx.now


def accepted(
    invitation: Invitation,
    rating: int | None,
    how_we_met: str | None,
    now: datetime,
    automatic: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]], Connection]:
    """An accept's change of the invitation, its events and the new connection, with
    the ratings given so far."""
    connection = Connection(
        member_low_id=min(invitation.inviter_id, invitation.invitee_id),
        member_high_id=max(invitation.inviter_id, invitation.invitee_id),
        how_we_met=how_we_met or invitation.how_we_met,
        connected_at=now,
        invitation_id=invitation.id,
    )
    if invitation.inviter_rating is not None:
        connection.set_rating_by(invitation.inviter_id, invitation.inviter_rating)
    if rating is not None:
        connection.set_rating_by(invitation.invitee_id, rating)
    events = [
        event_values(
            "invitation.accepted",
            InvitationAcceptedV1(**event_ref(invitation), automatic=automatic),
        ),
        event_values(
            "connection.created",
            ConnectionCreatedV1(
                inviter_id=invitation.inviter_id,
                invitee_id=invitation.invitee_id,
                inviter_rating=invitation.inviter_rating,
                invitee_rating=rating,
                how_we_met=connection.how_we_met,
                connected_at=now,
            ),
        ),
    ]
    return {"status": InvitationStatus.ACCEPTED, "closed_at": now}, events, connection


async def accept(
    ctx: InvitationContext,
    invitation: Invitation,
    rating: int | None,
    how_we_met: str | None,
    automatic: bool = False,
) -> Connection:
    """Close the invitation and connect the two: one statement with both events."""
    closed, events, connection = accepted(invitation, rating, how_we_met, ctx.now, automatic)
    await ctx.writes.change(invitation, closed, events, connection)
    return connection


def _decline_template(policy: PolicyIn, suggestion: Suggestion | None) -> str:
    if suggestion is not None and isinstance(suggestion.action, DeclineAction):
        return suggestion.action.note_template
    actions = [rule.then for rule in policy.rules] + [policy.otherwise]
    return next((a.note_template for a in actions if isinstance(a, DeclineAction)), POLITE_DECLINE)


def policy_note(
    invitation: Invitation, stored: policies.StoredPolicy, inviter: Member, invitee: Member
) -> str:
    """The note of a decline without one: the invitee's policy's template (or its
    suggestion's), rendered for the two members."""
    suggestion = from_storage(Suggestion, invitation.suggestion) if invitation.suggestion else None
    values = {"inviter_first_name": inviter.first_name, "my_first_name": invitee.first_name}
    # A template stored before placeholders had to be bare falls back to the polite one.
    template = _decline_template(stored.policy, suggestion)
    return templates.render(template, values, NOTE_MAX_LENGTH, fallback=POLITE_DECLINE)


def declined(
    invitation: Invitation, note: str | None, now: datetime, automatic: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A decline's change of the invitation and its event, ``note`` given (the
    invitee's own or ``policy_note``), or None for one sent by email, which is declined
    quietly: the sender is never told (nor shown that the address was a member's), so
    no note goes out and none is rendered."""
    closed = {"status": InvitationStatus.DECLINED, "closed_at": now, "decline_note": note}
    if invitation.email_invitation_id is not None:
        return closed, [
            event_values("invitation.declined_quietly", InvitationEventV1(**event_ref(invitation)))
        ]
    assert note is not None
    event = event_values(
        "invitation.declined",
        InvitationDeclinedV1(**event_ref(invitation), note=note, automatic=automatic),
    )
    return closed, [event]


async def decline(
    ctx: InvitationContext, invitation: Invitation, note: str | None, automatic: bool = False
) -> None:
    """Close it and send the inviter a note: the invitee's own, or their policy's template
    (``declined``)."""
    if invitation.email_invitation_id is None and note is None:
        # Usually read already, with the invitation (``get_locked_with_members``).
        read, row = ctx.invitations.known_policy(invitation.invitee_id)
        stored = (
            policies.stored_policy(row)
            if read
            else await policies.get_policy(ctx.policies, invitation.invitee_id)
        )
        members = await ctx.members.get_many({invitation.inviter_id, invitation.invitee_id})
        inviter, invitee = members[invitation.inviter_id], members[invitation.invitee_id]
        note = policy_note(invitation, stored, inviter, invitee)
    closed, events = declined(invitation, note, ctx.now, automatic)
    await ctx.writes.change(invitation, closed, events)


async def defer(
    ctx: InvitationContext, invitation: Invitation, days: int, automatic: bool = False
) -> None:
    """Put it in my "later" box; it comes back to my received box on its date."""
    invitation.status = InvitationStatus.DEFERRED
    invitation.later_until = ctx.now + timedelta(days=days)
    await record_event(
        ctx.session,
        "invitation.deferred",
        InvitationDeferredV1(
            **event_ref(invitation), until=invitation.later_until, automatic=automatic
        ),
    )


async def ask(
    ctx: InvitationContext, invitation: Invitation, question: str, automatic: bool = False
) -> None:
    if invitation.email_invitation_id is not None:
        raise InvitationByEmail(
            "This invitation was sent to your email address; its sender cannot see it until "
            "you accept, so they cannot answer a question. Accept, decline or report it."
        )
    if invitation.status == InvitationStatus.AWAITING_ANSWER:
        raise InvalidTransition("A question is already waiting for the inviter's answer.")
    invitation.status = InvitationStatus.AWAITING_ANSWER
    invitation.question = question
    invitation.answer = None
    invitation.question_expires_at = ctx.now + timedelta(
        days=ctx.settings.invitations.question_expiry_days
    )
    await record_event(
        ctx.session,
        "invitation.question_asked",
        InvitationQuestionAskedV1(
            **event_ref(invitation),
            question=question,
            expires_at=invitation.question_expires_at,
            automatic=automatic,
        ),
    )


async def answer(ctx: InvitationContext, invitation: Invitation, text: str) -> None:
    if invitation.status != InvitationStatus.AWAITING_ANSWER:
        raise InvalidTransition("There is no question waiting for your answer.")
    invitation.status = InvitationStatus.PENDING
    invitation.answer = text
    await record_event(
        ctx.session, "invitation.answered", InvitationEventV1(**event_ref(invitation))
    )
    await apply_policy(ctx, invitation)


async def withdraw(ctx: InvitationContext, invitation: Invitation) -> None:
    _close(ctx, invitation, InvitationStatus.WITHDRAWN)
    await record_event(
        ctx.session, "invitation.withdrawn", InvitationEventV1(**event_ref(invitation))
    )


async def close_quietly(ctx: InvitationContext, invitation: Invitation) -> None:
    """Withdraw an invitation sent by email, which its sender never saw: it starts no
    re-invite block (``pair_state`` leaves it out), and nobody is told."""
    assert invitation.email_invitation_id is not None
    await withdraw(ctx, invitation)


async def report(ctx: InvitationContext, invitation: Invitation, reason: str) -> None:
    """Close it without a note; the report counts against the inviter."""
    _close(ctx, invitation, InvitationStatus.DECLINED)
    invitation.report_reason = ReportReason(reason)
    if (
        invitation.report_reason == ReportReason.FALSE_REFERRAL
        and invitation.referrer_id is not None
    ):
        invitation.referral_status = ReferralStatus.FALSE_CLAIM
    await record_event(
        ctx.session,
        "invitation.reported",
        InvitationReportedV1(**event_ref(invitation), reason=reason),
    )


async def record_referral(ctx: InvitationContext, invitation: Invitation, outcome: str) -> None:
    """Record ``referral.<outcome>``: requested, confirmed, denied or false_claim."""
    assert invitation.referrer_id is not None
    await record_event(
        ctx.session,
        f"referral.{outcome}",
        ReferralEventV1(**event_ref(invitation), referrer_id=invitation.referrer_id),
    )


async def settle_referral(ctx: InvitationContext, invitation: Invitation, confirm: bool) -> None:
    """The referrer confirms or denies having suggested this invitation."""
    if invitation.referral_status != ReferralStatus.UNVERIFIED:
        raise InvalidTransition(
            f"This referral is {invitation.referral_status.replace('_', ' ')}; "
            "there is nothing to confirm."
        )
    invitation.referral_status = ReferralStatus.CONFIRMED if confirm else ReferralStatus.DENIED
    await record_referral(ctx, invitation, invitation.referral_status)
    if invitation.is_open:
        await apply_policy(ctx, invitation)


async def apply_policy(ctx: InvitationContext, invitation: Invitation) -> Suggestion:
    """Evaluate the invitee's policy; carry out the action when its rule is automatic."""
    suggestion = await suggest(ctx, invitation)
    await act_if_automatic(ctx, invitation, suggestion)
    return suggestion


def invitation_facts(
    how_we_met: str,
    inviter_is_recruiter: bool,
    market_areas: tuple[str | None, str | None],
    mutuals: list[float] | None,
    referral_status: ReferralStatus,
    answered: bool,
) -> InvitationFacts:
    """What the invitee's policy is shown of an invitation (both send paths use it):
    the two market areas compare without case."""
    inviter_area, invitee_area = market_areas
    return InvitationFacts(
        how_we_met=how_we_met,
        inviter_is_recruiter=inviter_is_recruiter,
        same_market_area=bool(
            inviter_area and invitee_area and inviter_area.casefold() == invitee_area.casefold()
        ),
        mutual_strengths=mutuals,
        referral_status=privacy.referral_fact(referral_status),
        question_answered=answered,
    )


async def suggest(
    ctx: InvitationContext, invitation: Invitation, stored: policies.StoredPolicy | None = None
) -> Suggestion:
    """Evaluate the invitee's policy (``stored``, when the caller read it already) and
    keep its suggestion on the invitation."""
    # Usually already in the session (sending loaded both): no query then.
    inviter = await ctx.members.get(invitation.inviter_id)
    invitee = await ctx.members.get(invitation.invitee_id)
    assert inviter is not None and invitee is not None  # foreign keys
    if stored is None:
        stored = await policies.get_policy(ctx.policies, invitee.id)
    mutuals = (
        await ctx.graph.mutual_strengths(invitee.id, inviter.id, ctx.now)
        if needs_mutuals(stored.policy)
        else []
    )
    facts = invitation_facts(
        invitation.how_we_met,
        inviter.is_recruiter,
        (inviter.market_area, invitee.market_area),
        mutuals,
        invitation.referral_status,
        answered=invitation.answer is not None,
    )
    suggestion = evaluate(stored.policy, facts)
    invitation.suggestion = suggestion.model_dump(mode="json")
    return suggestion


async def act_if_automatic(
    ctx: InvitationContext, invitation: Invitation, suggestion: Suggestion
) -> None:
    """Carry out the suggestion when the member made its rule automatic; never for an
    invitation sent by email, whose sender would learn from the outcome (a decline's
    note, an accept) that the address they typed is a member's."""
    if (
        not suggestion.automatic
        or invitation.status != InvitationStatus.PENDING
        or invitation.email_invitation_id is not None
    ):
        return
    action = suggestion.action
    if isinstance(action, AcceptAction):
        await accept(ctx, invitation, rating=None, how_we_met=None, automatic=True)
    elif isinstance(action, DeclineAction):
        await decline(ctx, invitation, note=None, automatic=True)
    elif isinstance(action, LaterAction):
        await defer(ctx, invitation, action.days, automatic=True)
    elif isinstance(action, AskAction) and invitation.question is None:
        # Asking again after an answer would loop; the member decides by hand then.
        await ask(ctx, invitation, action.question, automatic=True)
