"""The invitee's answers (accept, decline) in their usual case, on the driver's own
connection: two statements, no transaction, no ORM loading.

One statement reads the caller as ``CurrentMember`` does (the member, and whether the
token's sign-in is still active) with the invitation, both members, the invitee's
policy and the row's version (``xmin``), without a lock. If it is the invitee's own
open invitation with no question to expire, the change is one statement that writes
only if the row is still that version (``writes.change_if_unchanged``). Anything else,
and a row changed meanwhile, goes the locked way (``MyInvitation``), so every error is
that way's, in the same order.

The rows come as the driver gives them (the engine's connections decode JSON
themselves) and are made plain objects, in no session, for the rules
(``transitions.accepted``, ``declined``, ``policy_note``) and the view.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request
from sqlalchemy import Select, Table, bindparam, select, true
from sqlalchemy.orm import class_mapper

from rapport_common.db import DriverStatement
from rapport_common.domain.invitations import question_due
from rapport_common.models.enums import (
    InvitationStatus,
    ReferralStatus,
    ReportReason,
)
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.models.policies import LinkingPolicy
from services.api.auth.tokens import AccessClaims
from services.api.clock import get_clock
from services.api.deps import (
    SIGN_IN_ACTIVE,
    AccessClaimsDep,
    DriverSource,
    SessionDep,
    session_driver,
    sign_in_params,
    signed_in_member,
)
from services.api.invitations import transitions
from services.api.invitations.schemas import InvitationOut
from services.api.invitations.views import render
from services.api.invitations.writes import ROW_VERSION, change_if_unchanged
from services.api.policies import service as policies

INVITATIONS = cast(Table, Invitation.__table__)
_MEMBERS = cast(Table, Member.__table__)
_POLICIES = cast(Table, LinkingPolicy.__table__)
# What the rules and the view read of each member.
MEMBER_COLUMNS = ("name", "given_name", "headline")
_POLICY_COLUMNS = ("preset", "document", "version")
_ENUMS: dict[str, Any] = {
    "status": InvitationStatus,
    "referral_status": ReferralStatus,
    "report_reason": ReportReason,
}


def _seen_select(signed_in: Any) -> Select[Any]:
    me, inviter, invitee = (_MEMBERS.alias(name) for name in ("me", "inviter", "invitee"))
    invitations, policy = INVITATIONS, _POLICIES
    return (
        select(
            me.c.id.label("me_id"),
            signed_in.label("signed_in"),
            *(column.label(f"invitation_{column.name}") for column in invitations.c),
            *(inviter.c[name].label(f"inviter_{name}") for name in MEMBER_COLUMNS),
            *(invitee.c[name].label(f"invitee_{name}") for name in MEMBER_COLUMNS),
            policy.c.member_id.label("policy_member_id"),
            *(policy.c[name].label(f"policy_{name}") for name in _POLICY_COLUMNS),
            ROW_VERSION.label("row_version"),
        )
        .select_from(me)
        .outerjoin(invitations, invitations.c.id == bindparam("id"))
        .outerjoin(inviter, inviter.c.id == invitations.c.inviter_id)
        .outerjoin(invitee, invitee.c.id == invitations.c.invitee_id)
        .outerjoin(policy, policy.c.member_id == invitations.c.invitee_id)
        .where(me.c.id == bindparam("member_id"))
    )


_SEEN = {
    session: DriverStatement(_seen_select(SIGN_IN_ACTIVE if session else true()))
    for session in (False, True)
}


@dataclass(frozen=True)
class ToAnswer:
    """The invitee's own open invitation as read without a lock at row ``version``,
    with both members and the invitee's stored policy; None if the answer goes the
    locked way."""

    invitation: Invitation
    version: int
    inviter: Member
    invitee: Member
    policy: LinkingPolicy | None


@dataclass(frozen=True)
class AnswerRead:
    """The signed-in caller, the request's time and, in the usual case, what they
    answer."""

    me: Member
    now: datetime
    usual: ToAnswer | None


Plain = TypeVar("Plain")


def as_read(cls: type[Plain], values: dict[str, Any]) -> Plain:
    """An object of ``cls`` holding ``values`` as if read, in no session: as the ORM
    builds the objects it loads (the instrumented constructor took about 100 us for an
    invitation, more than the statement)."""
    instance: Plain = class_mapper(cls).class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


def invitation_of(row: Any) -> Invitation:
    values: dict[str, Any] = {}
    for column in INVITATIONS.c:
        value = row[f"invitation_{column.name}"]
        if value is not None and column.name in _ENUMS:
            value = _ENUMS[column.name](value)
        values[column.name] = value
    return as_read(Invitation, values)


def member_of(row: Any, prefix: str, member_id: uuid.UUID) -> Member:
    values = {name: row[f"{prefix}_{name}"] for name in MEMBER_COLUMNS}
    return as_read(Member, {"id": member_id, **values})


def _usual(row: Any, me: Member, invitation_id: uuid.UUID, now: datetime) -> ToAnswer | None:
    if row["invitation_id"] != invitation_id:
        return None
    invitation = invitation_of(row)
    if (
        invitation.role_of(me.id) != "invitee"
        or not invitation.is_open
        or question_due(invitation, now)
    ):
        return None
    policy = None
    if row["policy_member_id"] is not None:
        values = {name: row[f"policy_{name}"] for name in _POLICY_COLUMNS}
        policy = as_read(LinkingPolicy, {"member_id": row["policy_member_id"], **values})
    inviter = member_of(row, "inviter", invitation.inviter_id)
    invitee = member_of(row, "invitee", invitation.invitee_id)
    return ToAnswer(invitation, row["row_version"], inviter, invitee, policy)


async def read_answer(
    drive: DriverSource, claims: AccessClaims, invitation_id: uuid.UUID, now: datetime
) -> AnswerRead:
    """The signed-in member (or the 401 ``CurrentMember`` gives) and the invitation
    ``invitation_id``, in one statement."""
    statement = _SEEN[claims.session_id is not None]
    params = sign_in_params(claims) | {"id": invitation_id}
    async with drive() as (driver, dialect):
        sql = statement.compiled(dialect)
        row = await driver.fetchrow(sql, *statement.arguments(params))
    me = signed_in_member(
        claims,
        None if row is None else as_read(Member, {"id": row["me_id"]}),
        None if row is None else row["signed_in"],
    )
    assert row is not None  # signed_in_member refused the request otherwise
    return AnswerRead(me, now, _usual(row, me, invitation_id, now))


async def get_answer_read(
    request: Request, claims: AccessClaimsDep, session: SessionDep
) -> AnswerRead:
    """``read_answer`` before the path's id is validated, as ``CurrentMember`` is: an id
    that is no UUID reads no invitation, and FastAPI then answers its 422."""
    try:
        invitation_id = uuid.UUID(request.path_params["invitation_id"])
    except (KeyError, ValueError):
        invitation_id = uuid.UUID(int=0)
    now = (await get_clock(request))()
    return await read_answer(session_driver(session), claims, invitation_id, now)


AnswerReadDep = Annotated[AnswerRead, Depends(get_answer_read)]


def _view(usual: ToAnswer) -> InvitationOut:
    invitation = usual.invitation
    members = {invitation.inviter_id: usual.inviter, invitation.invitee_id: usual.invitee}
    return render(invitation, usual.invitee, members)


async def accept(
    drive: DriverSource, usual: ToAnswer, now: datetime, rating: int, how_we_met: str | None
) -> InvitationOut | None:
    """Accept it as read; None (nothing written) if its row changed since."""
    closed, events, connection = transitions.accepted(usual.invitation, rating, how_we_met, now)
    async with drive() as (driver, dialect):
        made = await change_if_unchanged(
            driver, dialect, usual.invitation, usual.version, closed, events, connection
        )
    return _view(usual) if made else None


async def decline(
    drive: DriverSource, usual: ToAnswer, now: datetime, note: str | None
) -> InvitationOut | None:
    """Decline it as read; None (nothing written) if its row changed since."""
    invitation = usual.invitation
    if invitation.email_invitation_id is None and note is None:
        stored = policies.stored_policy(usual.policy)
        note = transitions.policy_note(invitation, stored, usual.inviter, usual.invitee)
    closed, events = transitions.declined(invitation, note, now)
    async with drive() as (driver, dialect):
        made = await change_if_unchanged(driver, dialect, invitation, usual.version, closed, events)
    return _view(usual) if made else None
