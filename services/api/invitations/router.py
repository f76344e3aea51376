import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from rapport_common.models.enums import InvitationStatus
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.web.problems import problem_responses
from services.api.deps import (
    AuthFirstRoute,
    CurrentMember,
    SessionDep,
    get_current_member,
    session_driver,
)
from services.api.idempotency.service import IdempotencyKeyHeader, fingerprint, run_idempotent
from services.api.invitations import answers, email, quick_send, transitions
from services.api.invitations.answers import AnswerReadDep
from services.api.invitations.context import InvitationContext
from services.api.invitations.deps import (
    ContextDep,
    MyInvitation,
    ReferredInvitation,
    get_context,
    lock_my_invitation,
)
from services.api.invitations.quick_send import SendingDep
from services.api.invitations.schemas import (
    AnswerIn,
    AskIn,
    DeclineIn,
    EmailInvitationCreatedOut,
    EmailInvitationOut,
    InvitationAcceptIn,
    InvitationCreatedOut,
    InvitationIn,
    InvitationOut,
    LaterIn,
    ReferralIn,
    ReportIn,
)
from services.api.invitations.sending import send as send_by_id
from services.api.invitations.views import render_many
from services.api.pagination import PAGE_SIZE, CursorQuery, LimitQuery, Page, after_time, window
from services.api.policies import service as policies
from services.api.policies.schemas import LaterAction

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1/invitations",
    tags=["invitations"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)

Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = problem_responses((404, "No such invitation among mine"))
CONFLICT: Responses = problem_responses((409, "Not possible in the invitation's state"))
FORBIDDEN: Responses = problem_responses((403, "It is the other member's move"))


async def _view(ctx: ContextDep, invitation: Invitation, me: Member) -> InvitationOut:
    await ctx.session.flush()
    return (await render_many(ctx.members, [invitation], me))[0]


@router.post(
    "",
    status_code=201,
    response_model=InvitationCreatedOut | EmailInvitationCreatedOut,
    responses=problem_responses(
        (403, "Your email address is not verified yet (`email-unverified`)"),
        (404, "No such member (by id)"),
        (
            409,
            "By id: already connected, an invitation is open, re-invite blocked after a "
            "withdrawal, or declined recently (`blocked_until`, null: never)",
        ),
        (422, "Invalid invitation; by id, a member you blocked"),
        (429, "A sending limit is reached; see Retry-After and RateLimit"),
    ),
)
async def send_invitation(
    data: InvitationIn,
    request: Request,
    sending: SendingDep,
    ctx: ContextDep,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Invite a member, with a note and how you met. Their policy is applied at once:
    the returned status shows whether it was accepted, declined, deferred or a question
    was asked automatically.

    With `to_email` the answer is always `{email_invitation_id, status: "sent"}`, whoever
    the address belongs to; it counts in your limits like any invitation. Follow it with
    `GET /v1/invitations/by-email`."""
    quota_headers: dict[str, str] = {}

    async def create() -> BaseModel:
        if sending.found is not None:  # a send by id that may go the quick way
            quick = quick_send.QuickContext.of(ctx)
            sent = await quick_send.send(quick, sending.member_id, sending.found, data)
            if sent is not None:
                quota_headers.update(sent[1].headers())
                return InvitationCreatedOut(invitation_id=sent[0], status=InvitationStatus.PENDING)
            # Not the usual send, or another send came first: the locked way, from the start.
            me = await get_current_member(session, sending.claims)
            invitation, quota = await send_by_id(ctx, me, data)
        else:
            assert sending.me is not None  # get_sending refused the request otherwise
            if data.to_email is not None:
                sent_by_email, quota = await email.send_by_email(ctx, sending.me, data)
                quota_headers.update(quota.headers())
                return EmailInvitationCreatedOut(
                    email_invitation_id=sent_by_email.id, status="sent"
                )
            invitation, quota = await send_by_id(ctx, sending.me, data)
        quota_headers.update(quota.headers())
        return InvitationCreatedOut(invitation_id=invitation.id, status=invitation.status)

    request_hash = fingerprint("POST", request.url.path, data)
    scope = str(sending.member_id)
    response = await run_idempotent(session, scope, idempotency_key, request_hash, create)
    response.headers.update(quota_headers)
    return response


@router.get("", response_model=Page[InvitationOut])
async def list_invitations(
    me: CurrentMember,
    ctx: ContextDep,
    box: Literal["received", "sent", "later"] = "received",
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[InvitationOut]:
    """`received`: waiting for me (including those back from "later"); `sent`: mine;
    `later`: deferred, until their date. Newest first."""
    query = ctx.invitations.box_query(me.id, box, ctx.now)
    rows = await ctx.invitations.page(query, limit, after_time(cursor))
    found = window(rows, limit, lambda invitation: (invitation.created_at, invitation.id))
    return found.page(await render_many(ctx.members, found.rows, me))


# Before "/{invitation_id}", which would take "by-email" for an id.
@router.get("/by-email", response_model=Page[EmailInvitationOut])
async def list_email_invitations(
    me: CurrentMember, ctx: ContextDep, limit: LimitQuery = PAGE_SIZE, cursor: CursorQuery = None
) -> Page[EmailInvitationOut]:
    """My invitations by email, newest first. Each reads the same whoever the address
    belongs to: `sent` until it expires, `accepted` once accepted; a decline is not
    shown."""
    return await email.page_for(ctx, me, limit, after_time(cursor))


@router.post(
    "/by-email/{email_invitation_id}/withdraw",
    response_model=EmailInvitationOut,
    responses=problem_responses(
        (404, "No such invitation by email among mine"),
        (409, "Already accepted, expired or withdrawn"),
    ),
)
async def withdraw_email_invitation(
    email_invitation_id: uuid.UUID, me: CurrentMember, ctx: ContextDep
) -> EmailInvitationOut:
    """Take back an invitation by email: its join link stops working, and whoever the
    address belongs to is not told."""
    return await email.withdraw(ctx, me, email_invitation_id)


@router.get("/{invitation_id}", response_model=InvitationOut, responses=NOT_FOUND)
async def read_invitation(
    invitation: MyInvitation, me: CurrentMember, ctx: ContextDep
) -> InvitationOut:
    return await _view(ctx, invitation, me)


TRANSITION_RESPONSES: Responses = {**NOT_FOUND, **CONFLICT, **FORBIDDEN}


async def _answer_locked(
    ctx: InvitationContext,
    me: Member,
    invitation_id: uuid.UUID,
    action: str,
    act: Callable[[Invitation], Awaitable[object]],
) -> InvitationOut:
    """The answer the usual way did not give (``answers``): read the invitation locked,
    check and ``act`` on what it is now."""
    invitation = await lock_my_invitation(ctx, me, invitation_id, again=True)
    transitions.require_role(invitation, me, "invitee", action)
    transitions.require_open(invitation)
    await act(invitation)
    return await _view(ctx, invitation, me)


@router.post(
    "/{invitation_id}/accept", response_model=InvitationOut, responses=TRANSITION_RESPONSES
)
async def accept_invitation(
    invitation_id: uuid.UUID,
    data: InvitationAcceptIn,
    read: AnswerReadDep,
    request: Request,
    session: SessionDep,
) -> InvitationOut:
    """Connect, with my private 1-10 rating of the inviter."""
    if read.usual is not None:
        made = await answers.accept(
            session_driver(session), read.usual, read.now, data.rating, data.how_we_met
        )
        if made is not None:
            return made
    ctx = await get_context(request, session)

    async def accept(invitation: Invitation) -> None:
        await transitions.accept(ctx, invitation, data.rating, data.how_we_met)

    return await _answer_locked(ctx, read.me, invitation_id, "accept", accept)


@router.post(
    "/{invitation_id}/decline", response_model=InvitationOut, responses=TRANSITION_RESPONSES
)
async def decline_invitation(
    invitation_id: uuid.UUID,
    read: AnswerReadDep,
    request: Request,
    session: SessionDep,
    data: DeclineIn = DeclineIn(),
) -> InvitationOut:
    """Decline; the inviter receives my note, or my policy's polite template."""
    if read.usual is not None:
        made = await answers.decline(session_driver(session), read.usual, read.now, data.note)
        if made is not None:
            return made
    ctx = await get_context(request, session)

    async def decline(invitation: Invitation) -> None:
        await transitions.decline(ctx, invitation, data.note)

    return await _answer_locked(ctx, read.me, invitation_id, "decline", decline)


@router.post("/{invitation_id}/later", response_model=InvitationOut, responses=TRANSITION_RESPONSES)
async def defer_invitation(
    invitation: MyInvitation, me: CurrentMember, ctx: ContextDep, data: LaterIn = LaterIn()
) -> InvitationOut:
    """Decide later: it leaves my received box and comes back on its date."""
    transitions.require_role(invitation, me, "invitee", "defer")
    transitions.require_open(invitation)
    days = data.days or await _policy_later_days(ctx, me)
    await transitions.defer(ctx, invitation, days)
    return await _view(ctx, invitation, me)


async def _policy_later_days(ctx: ContextDep, me: Member) -> int:
    stored = await policies.get_policy(ctx.policies, me.id)
    actions = [rule.then for rule in stored.policy.rules] + [stored.policy.otherwise]
    return next((a.days for a in actions if isinstance(a, LaterAction)), 7)


@router.post("/{invitation_id}/ask", response_model=InvitationOut, responses=TRANSITION_RESPONSES)
async def ask_question(
    data: AskIn, invitation: MyInvitation, me: CurrentMember, ctx: ContextDep
) -> InvitationOut:
    """Ask the inviter a question first; unanswered, it expires and closes the invitation."""
    transitions.require_role(invitation, me, "invitee", "ask about")
    transitions.require_open(invitation)
    await transitions.ask(ctx, invitation, data.question)
    return await _view(ctx, invitation, me)


@router.post(
    "/{invitation_id}/answer", response_model=InvitationOut, responses=TRANSITION_RESPONSES
)
async def answer_question(
    data: AnswerIn, invitation: MyInvitation, me: CurrentMember, ctx: ContextDep
) -> InvitationOut:
    transitions.require_role(invitation, me, "inviter", "answer")
    transitions.require_open(invitation)
    await transitions.answer(ctx, invitation, data.answer)
    return await _view(ctx, invitation, me)


@router.post(
    "/{invitation_id}/withdraw", response_model=InvitationOut, responses=TRANSITION_RESPONSES
)
async def withdraw_invitation(
    invitation: MyInvitation, me: CurrentMember, ctx: ContextDep
) -> InvitationOut:
    """Withdraw my invitation; I cannot invite the same person again for 21 days."""
    transitions.require_role(invitation, me, "inviter", "withdraw")
    transitions.require_open(invitation)
    await transitions.withdraw(ctx, invitation)
    return await _view(ctx, invitation, me)


@router.post(
    "/{invitation_id}/report", response_model=InvitationOut, responses=TRANSITION_RESPONSES
)
async def report_invitation(
    data: ReportIn, invitation: MyInvitation, me: CurrentMember, ctx: ContextDep
) -> InvitationOut:
    """Report: I don't know this person, it's spam, or a false referral. Closes it without
    a note and counts against the inviter."""
    transitions.require_role(invitation, me, "invitee", "report")
    transitions.require_open(invitation)
    await transitions.report(ctx, invitation, data.reason)
    return await _view(ctx, invitation, me)


@router.post("/{invitation_id}/referral", status_code=204, responses=TRANSITION_RESPONSES)
async def settle_referral(
    data: ReferralIn, invitation: ReferredInvitation, ctx: ContextDep
) -> Response:
    """As the named referrer: confirm or deny having suggested this invitation."""
    await transitions.settle_referral(ctx, invitation, data.confirm)
    return Response(status_code=204)
