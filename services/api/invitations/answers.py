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

import json
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
    OPEN_INVITATION_STATUSES,
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
from services.api.invitations.writes import ROW_VERSION, change_if_unchanged, event_defaults
from services.api.policies import service as policies

_INVITATIONS = cast(Table, Invitation.__table__)
_MEMBERS = cast(Table, Member.__table__)
_POLICIES = cast(Table, LinkingPolicy.__table__)
# What the rules and the view read of each member.
_MEMBER_COLUMNS = ("name", "given_name", "headline")
_POLICY_COLUMNS = ("preset", "document", "version")
_ENUMS: dict[str, Any] = {
    "status": InvitationStatus,
    "referral_status": ReferralStatus,
    "report_reason": ReportReason,
}


def _seen_select(signed_in: Any) -> Select[Any]:
    me, inviter, invitee = (_MEMBERS.alias(name) for name in ("me", "inviter", "invitee"))
    invitations, policy = _INVITATIONS, _POLICIES
    return (
        select(
            me.c.id.label("me_id"),
            signed_in.label("signed_in"),
            *(column.label(f"invitation_{column.name}") for column in invitations.c),
            *(inviter.c[name].label(f"inviter_{name}") for name in _MEMBER_COLUMNS),
            *(invitee.c[name].label(f"invitee_{name}") for name in _MEMBER_COLUMNS),
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


def _as_read(cls: type[Plain], values: dict[str, Any]) -> Plain:
    """An object of ``cls`` holding ``values`` as if read, in no session: as the ORM
    builds the objects it loads (the instrumented constructor took about 100 us for an
    invitation, more than the statement)."""
    instance: Plain = class_mapper(cls).class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


def _invitation_of(row: Any) -> Invitation:
    values: dict[str, Any] = {}
    for column in _INVITATIONS.c:
        value = row[f"invitation_{column.name}"]
        if value is not None and column.name in _ENUMS:
            value = _ENUMS[column.name](value)
        values[column.name] = value
    return _as_read(Invitation, values)


def _member_of(row: Any, prefix: str, member_id: uuid.UUID) -> Member:
    values = {name: row[f"{prefix}_{name}"] for name in _MEMBER_COLUMNS}
    return _as_read(Member, {"id": member_id, **values})


def _usual(row: Any, me: Member, invitation_id: uuid.UUID, now: datetime) -> ToAnswer | None:
    if row["invitation_id"] != invitation_id:
        return None
    invitation = _invitation_of(row)
    if (
        invitation.role_of(me.id) != "invitee"
        or not invitation.is_open
        or question_due(invitation, now)
    ):
        return None
    policy = None
    if row["policy_member_id"] is not None:
        values = {name: row[f"policy_{name}"] for name in _POLICY_COLUMNS}
        policy = _as_read(LinkingPolicy, {"member_id": row["policy_member_id"], **values})
    inviter = _member_of(row, "inviter", invitation.inviter_id)
    invitee = _member_of(row, "invitee", invitation.invitee_id)
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
        None if row is None else _as_read(Member, {"id": row["me_id"]}),
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


# The usual accept, and a decline with the invitee's own note, in one statement (one
# round trip, not the read and the write): the change only if the row is the caller's
# own open invitation with no question past its expiry and the sign-in is active
# (``_usual``'s rules and ``SIGN_IN_ACTIVE``, as conditions), then what goes with it
# (the connection, the events), then what the view shows. The events are those
# ``transitions`` gives, with the values only the row knows (the inviter, their rating,
# how they met unless the invitee says) put in from the row; the connection puts each
# rating on its member's side as ``set_rating_by`` does. When it changes nothing, the
# two statements above give the answer, refusals included. A decline without a note
# takes its note from the invitee's policy, rendered in Python from the row: it stays
# two statements.
#
# Parameters: $1 the invitation, $2 the caller, $3 their sign-in, $4 now, $5 the new
# status, $6 the open statuses, $7 the status of a question; then the answer's own
# (``_ACCEPT_ARGUMENTS``, ``_DECLINE_ARGUMENTS``), then each event's nine.
_EVENT_VALUES = (
    "$%d::uuid, $%d::varchar, $%d::integer, $%d::jsonb || %s, $%d::varchar, "
    "$%d::integer, $%d::text[], $%d::integer, $%d::timestamptz"
)
_EVENT_COLUMNS = (
    "id, type, version, payload, request_id, attempts, consumed_by, requeues, created_at"
)
_EVENT_SLOTS = 9
_INVITER_FROM_ROW = "jsonb_build_object('inviter_id', changed.inviter_id)"
_ACCEPT_ARGUMENTS = 2  # $8 the rating, $9 how they met (None: the inviter's)
_ACCEPT_EVENTS = {
    "invitation.accepted": _INVITER_FROM_ROW,
    "connection.created": "jsonb_build_object('inviter_id', changed.inviter_id, "
    "'inviter_rating', changed.inviter_rating, "
    "'how_we_met', COALESCE($9::varchar, changed.how_we_met))",
}
_CONNECTED = """
connected AS (
    INSERT INTO connections (member_low_id, member_high_id, low_rating, high_rating,
                             how_we_met, connected_at, last_interaction_at, invitation_id)
    SELECT LEAST(inviter_id, invitee_id), GREATEST(inviter_id, invitee_id),
           CASE WHEN invitee_id < inviter_id THEN $8::smallint ELSE inviter_rating END,
           CASE WHEN invitee_id < inviter_id THEN inviter_rating ELSE $8::smallint END,
           COALESCE($9::varchar, how_we_met), $4::timestamptz, NULL, id
    FROM changed
),"""
_DECLINE_ARGUMENTS = 1  # $8 the note
_DECLINE_EVENTS = {"invitation.declined": _INVITER_FROM_ROW}
_SHOWN = ",\n       ".join(
    [f"changed.{column.name} AS invitation_{column.name}" for column in _INVITATIONS.c]
    + [
        f"{side}.{name} AS {side}_{name}"
        for side in ("inviter", "invitee")
        for name in _MEMBER_COLUMNS
    ]
)


def _at_once(sets: str, where: str, ctes: str, answer: int, events: dict[str, str]) -> str:
    first = 8 + answer
    selects = []
    for n, from_row in enumerate(events.values()):
        slots = [first + n * _EVENT_SLOTS + i for i in range(_EVENT_SLOTS)]
        values = _EVENT_VALUES % (*slots[:4], from_row, *slots[4:])
        selects.append(f"SELECT {values} FROM changed")  # noqa: S608 (constants only)
    return f"""
WITH changed AS (
    UPDATE invitations SET status = $5::varchar, closed_at = $4::timestamptz{sets}
    WHERE id = $1::uuid AND invitee_id = $2::uuid
      AND status = ANY($6::varchar[])
      AND NOT (status = $7::varchar AND question_expires_at IS NOT NULL
               AND question_expires_at <= $4::timestamptz)
      AND ($3::uuid IS NULL OR EXISTS (
          SELECT 1 FROM refresh_tokens
          WHERE family_id = $3::uuid AND member_id = $2::uuid AND revoked_at IS NULL)){where}
    RETURNING *
),{ctes} recorded AS (
    INSERT INTO outbox_events ({_EVENT_COLUMNS})
    {" UNION ALL ".join(selects)}
)
SELECT {_SHOWN}
FROM changed
JOIN members AS inviter ON inviter.id = changed.inviter_id
JOIN members AS invitee ON invitee.id = changed.invitee_id
"""  # noqa: S608 (constants only)


_ACCEPT_AT_ONCE = _at_once("", "", _CONNECTED, _ACCEPT_ARGUMENTS, _ACCEPT_EVENTS)
# One sent by email is declined quietly, with another event: not here.
_DECLINE_AT_ONCE = _at_once(
    ", decline_note = $8::text",
    "\n      AND email_invitation_id IS NULL",
    "",
    _DECLINE_ARGUMENTS,
    _DECLINE_EVENTS,
)
_OPEN = [status.value for status in OPEN_INVITATION_STATUSES]


def _known(invitation_id: uuid.UUID, member_id: uuid.UUID, how_we_met: str | None) -> Invitation:
    """What the rules know before the row: the statement puts in the row's own values (a
    stand-in inviter here, and how they met if the invitee does not say)."""
    return _as_read(
        Invitation,
        {
            "id": invitation_id,
            "inviter_id": uuid.UUID(int=0),
            "invitee_id": member_id,
            "how_we_met": how_we_met or "never_met",
            "inviter_rating": None,
            "email_invitation_id": None,
        },
    )


async def _change_at_once(
    drive: DriverSource,
    sql: str,
    claims: AccessClaims,
    invitation_id: uuid.UUID,
    closed: dict[str, Any],
    answer: list[Any],
    events: list[dict[str, Any]],
) -> InvitationOut | None:
    defaults = event_defaults()
    args: list[Any] = [
        invitation_id,
        claims.member_id,
        claims.session_id,
        closed["closed_at"],
        closed["status"].value,
        _OPEN,
        InvitationStatus.AWAITING_ANSWER.value,
        *answer,
    ]
    for event in events:
        args += [event["id"], event["type"], event["version"], json.dumps(event["payload"])]
        args.append(event["request_id"])
        args += [defaults[name] for name in ("attempts", "consumed_by", "requeues", "created_at")]
    async with drive() as (driver, _):
        row = await driver.fetchrow(sql, *args)
    if row is None:
        return None
    invitation = _invitation_of(row)
    inviter = _member_of(row, "inviter", invitation.inviter_id)
    invitee = _member_of(row, "invitee", invitation.invitee_id)
    members = {invitation.inviter_id: inviter, invitation.invitee_id: invitee}
    return render(invitation, invitee, members)


async def accept_at_once(
    drive: DriverSource,
    claims: AccessClaims,
    invitation_id: uuid.UUID,
    now: datetime,
    rating: int,
    how_we_met: str | None,
) -> InvitationOut | None:
    """The usual accept in one statement; None (nothing written) when it is not the
    usual one: ``read_answer`` and ``accept`` then give the answer."""
    known = _known(invitation_id, claims.member_id, how_we_met)
    closed, events, _ = transitions.accepted(known, rating, how_we_met, now)
    assert [event["type"] for event in events] == list(_ACCEPT_EVENTS)
    answer = [rating, how_we_met or None]
    return await _change_at_once(
        drive, _ACCEPT_AT_ONCE, claims, invitation_id, closed, answer, events
    )


async def decline_at_once(
    drive: DriverSource, claims: AccessClaims, invitation_id: uuid.UUID, now: datetime, note: str
) -> InvitationOut | None:
    """A decline with the invitee's own note in one statement; None (nothing written)
    when it is not the usual one: ``read_answer`` and ``decline`` then give the answer."""
    known = _known(invitation_id, claims.member_id, None)
    closed, events = transitions.declined(known, note, now)
    assert [event["type"] for event in events] == list(_DECLINE_EVENTS)
    return await _change_at_once(
        drive, _DECLINE_AT_ONCE, claims, invitation_id, closed, [note], events
    )
