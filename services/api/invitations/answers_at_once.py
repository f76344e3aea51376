"""The invitee's usual accept, and a decline with their own note, in one statement (one
round trip, not ``answers``' read and write): the change only if the row is the caller's
own open invitation with no question past its expiry and the sign-in is active
(``answers._usual``'s rules and ``SIGN_IN_ACTIVE``, as conditions), then what goes with
it (the connection, the events), then what the view shows. When it changes nothing,
``answers.read_answer`` and its two statements give the answer, refusals included.
"""

import json
import uuid
from datetime import datetime
from typing import Any

from rapport_common.models.enums import OPEN_INVITATION_STATUSES, InvitationStatus
from rapport_common.models.invitations import Invitation
from services.api.auth.tokens import AccessClaims
from services.api.deps import DriverSource
from services.api.invitations import transitions
from services.api.invitations.answers import (
    INVITATIONS,
    MEMBER_COLUMNS,
    as_read,
    invitation_of,
    member_of,
)
from services.api.invitations.schemas import InvitationOut
from services.api.invitations.views import render
from services.api.invitations.writes import event_defaults

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
    [f"changed.{column.name} AS invitation_{column.name}" for column in INVITATIONS.c]
    + [
        f"{side}.{name} AS {side}_{name}"
        for side in ("inviter", "invitee")
        for name in MEMBER_COLUMNS
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
    return as_read(
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
    invitation = invitation_of(row)
    inviter = member_of(row, "inviter", invitation.inviter_id)
    invitee = member_of(row, "invitee", invitation.invitee_id)
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
