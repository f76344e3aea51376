"""A send by id in two statements, with no BEGIN or COMMIT, on the driver's connection.

The usual send (no ``Idempotency-Key``, no referrer, the pair free, within the limits,
nothing automatic in the invitee's policy) reads, in one statement without a lock,
everything the rules need: the sender and whether their sign-in is active, the invitee,
both blocks, the invitee's policy, the inviter's sending record, the pair's state, and
the version (``xmin``) of the inviter's row. The rules run in Python on plain values.
Then one statement writes a new version of the inviter's row *only if it is still the
version read*, and the invitation and its ``invitation.sent`` event only if that row
was written (data-modifying CTEs: all or nothing, atomic alone).

Every send that counts against an inviter's limits writes a new version of their row in
the transaction that stores it (``InvitationRepository.lock_inviter`` and the send lock
of ``invitee_for_send`` are that write, not a bare row lock; a block writes both
members' rows too), so a send committed
after the read, or still in progress, makes the version differ: nothing is written, and
the route sends the usual way, locked, in a transaction (``sending.send``). Anything
but the usual send goes that way from the start, so every refusal is the locked path's,
with its answer. An invitation the other member opened meanwhile fails the pair's open
index as it does there (409).

The statements run on asyncpg directly: their SQL is compiled once from the same
SQLAlchemy constructs the locked path runs (``send_state``), and the rows are plain
values, not ORM objects (the ORM's loading was most of the send's Python)."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, cast

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Text,
    bindparam,
    exists,
    literal_column,
    select,
    true,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.sql.elements import BindParameter

from rapport_common.db import DriverStatement
from rapport_common.events import InvitationSentV1
from rapport_common.models.blocks import Block
from rapport_common.models.enums import InvitationStatus, ReferralStatus
from rapport_common.models.members import Member
from rapport_common.models.policies import LinkingPolicy
from rapport_common.outbox import event_values
from rapport_common.settings import Settings
from rapport_common.web.problems import NotFound
from services.api.auth.tokens import AccessClaims
from services.api.deps import (
    SIGN_IN_ACTIVE,
    AccessClaimsDep,
    DriverSource,
    get_current_member,
    get_verified_member,
    session_driver,
    sign_in_params,
    signed_in_member,
)
from services.api.graph_client import GraphClient
from services.api.invitations import availability
from services.api.invitations.context import InvitationContext
from services.api.invitations.deps import ContextDep
from services.api.invitations.limits import Quota, quota_if_allowed, record_windows
from services.api.invitations.schemas import InvitationIn
from services.api.invitations.send_state import (
    PAIR_STATE,
    SENDING_RECORD,
    PairState,
    SendingRecord,
    pair_params,
    pair_state_from,
    record_params,
    sending_record_from,
)
from services.api.invitations.sending import OPEN_PAIR, InvitationExists
from services.api.invitations.transitions import invitation_facts
from services.api.invitations.writes import event_defaults
from services.api.policies.evaluation import evaluate, needs_mutuals
from services.api.policies.service import StoredPolicy, policy_of, stored_policy

_MEMBERS = cast(Table, Member.__table__)
_BLOCKS = cast(Table, Block.__table__)
_POLICIES = cast(Table, LinkingPolicy.__table__)


def _read_select(signed_in: ColumnElement[bool]) -> Select[Any]:
    sender, invitee = _MEMBERS.alias("sender"), _MEMBERS.alias("invitee")
    inviter_id: BindParameter[uuid.UUID] = bindparam("inviter")
    invitee_id: BindParameter[uuid.UUID] = bindparam("invitee")
    record, pair = SENDING_RECORD.subquery("record"), PAIR_STATE.subquery("pair")
    return (
        select(
            sender.c.email,
            sender.c.email_verified_at,
            sender.c.is_recruiter,
            sender.c.market_area,
            signed_in.label("signed_in"),
            sql_cast(literal_column("sender.xmin"), Text).label("version"),
            invitee.c.id.label("invitee_id"),
            invitee.c.name.label("invitee_name"),
            invitee.c.market_area.label("invitee_market_area"),
            invitee.c.decline_cooldown_days,
            exists()
            .where(_BLOCKS.c.blocker_id == invitee_id, _BLOCKS.c.blocked_id == inviter_id)
            .label("blocked_me"),
            exists()
            .where(_BLOCKS.c.blocker_id == inviter_id, _BLOCKS.c.blocked_id == invitee_id)
            .label("blocked_by_me"),
            _POLICIES.c.member_id.label("policy_of"),
            _POLICIES.c.document,
            _POLICIES.c.preset,
            _POLICIES.c.version.label("policy_version"),
            *record.c,
            *pair.c,
        )
        .select_from(sender)
        .outerjoin(invitee, invitee.c.id == invitee_id)
        .outerjoin(_POLICIES, _POLICIES.c.member_id == invitee.c.id)
        .join(record, true())
        .join(pair, true())
        .where(sender.c.id == bindparam("member_id"))
    )


# Its IN lists (the statuses the record and the pair count) are expanded once.
_READ = {
    session: DriverStatement(_read_select(SIGN_IN_ACTIVE if session else true()))
    for session in (False, True)
}
_COLUMN_NAMES = [column.name for column in _read_select(true()).selected_columns]
# The inviter's row again only if it is the version read; then the invitation, then its
# event. The event's columns that the ORM fills from defaults are given as it gives them
# (``writes.event_defaults``), ``created_at`` included: this process's clock, as on every
# other path, which webhook fan-out compares with the endpoints' own.
_WRITE = """
WITH bumped AS (
    UPDATE members SET updated_at = updated_at
    WHERE id = $1::uuid AND xmin::text = $2::text
    RETURNING id
), created AS (
    INSERT INTO invitations (id, inviter_id, invitee_id, note, how_we_met, inviter_rating,
                             status, referral_status, suggestion, created_at)
    SELECT $3::uuid, bumped.id, $4::uuid, $5::text, $6::varchar, $7::smallint,
           $8::varchar, $9::varchar, $10::jsonb, $11::timestamptz
    FROM bumped
    RETURNING id
)
INSERT INTO outbox_events (id, type, version, payload, request_id, attempts, consumed_by,
                           requeues, created_at)
SELECT $12::uuid, $13::varchar, $14::integer, $15::jsonb, $16::varchar, $17::integer,
       $18::text[], $19::integer, $20::timestamptz
FROM created
RETURNING id
"""


@dataclass(frozen=True)
class Invitee:
    id: uuid.UUID
    name: str
    market_area: str | None
    decline_cooldown_days: int | None


@dataclass(frozen=True)
class SendRead:
    """What the read gave, as plain values: the sender (None if there is no such
    member), whether their sign-in is active, the invitee (None if there is no such
    member), and the rest of what the rules need."""

    sender: Member | None  # not in the session: for ``VerifiedMember``'s checks only
    signed_in: bool | None
    is_recruiter: bool
    market_area: str | None
    version: str
    invitee: Invitee | None
    blocked_me: bool
    blocked_by_me: bool
    policy: StoredPolicy
    record: SendingRecord
    pair: PairState


@dataclass(frozen=True)
class QuickContext:
    """What the quick send needs: where its statements run (the request's session's
    connection, or one without a session: ``invitations.lean``), the graph, the
    settings and the request's time."""

    drive: DriverSource
    graph: GraphClient
    settings: Settings
    now: datetime

    @classmethod
    def of(cls, ctx: InvitationContext) -> "QuickContext":
        return cls(session_driver(ctx.session), ctx.graph, ctx.settings, ctx.now)


async def read(ctx: QuickContext, claims: AccessClaims, invitee_id: uuid.UUID) -> SendRead | None:
    """The one read, without a lock. None when there is no such sender."""
    statement = _READ[claims.session_id is not None]
    windows = record_windows(ctx.settings.invitations, ctx.now)
    values = sign_in_params(claims) | record_params(claims.member_id, *windows, ctx.now)
    values |= pair_params(claims.member_id, invitee_id)
    async with ctx.drive() as (driver, dialect):
        sql = statement.compiled(dialect)
        row = await driver.fetchrow(sql, *statement.arguments(values))
    if row is None:
        return None
    invitee = None
    if row["invitee_id"] is not None:
        invitee = Invitee(
            row["invitee_id"],
            row["invitee_name"],
            row["invitee_market_area"],
            row["decline_cooldown_days"],
        )
    policy = (
        stored_policy(None)
        if row["policy_of"] is None
        # The engine's codec has decoded the JSON document already.
        else policy_of(row["document"], row["preset"], row["policy_version"])
    )
    columns = list(row.values())
    record_at = _COLUMN_NAMES.index("sent")
    pair_at = _COLUMN_NAMES.index("connected")
    sender = Member(
        id=claims.member_id, email=row["email"], email_verified_at=row["email_verified_at"]
    )
    return SendRead(
        sender,
        row["signed_in"],
        row["is_recruiter"],
        row["market_area"],
        row["version"],
        invitee,
        row["blocked_me"],
        row["blocked_by_me"],
        policy,
        sending_record_from(tuple(columns[record_at:pair_at])),
        pair_state_from(tuple(columns[pair_at:])),
    )


class InviterChanged(Exception):
    """The inviter's row is no longer the version read (another send came first)."""


async def send(
    ctx: QuickContext,
    inviter_id: uuid.UUID,
    found: SendRead,
    data: InvitationIn,
    *,
    changed_raises: bool = False,
) -> tuple[uuid.UUID, Quota] | None:
    """Store the invitation and its event if this is the usual send and the inviter's
    row is still the version read; None otherwise (nothing written): send it the
    locked way. 409 if the pair's open index refuses it. ``changed_raises``: a row
    changed since the read raises ``InviterChanged`` (nothing written) instead, for a
    caller that reads again."""
    invitee = found.invitee
    if (
        invitee is None
        or found.blocked_me
        or found.blocked_by_me
        or data.referred_by_member_id is not None
    ):
        return None
    quota = quota_if_allowed(ctx.settings.invitations, ctx.now, found.record)
    state = availability.judge(ctx, inviter_id, invitee, found.pair)
    if quota is None or state.state != "possible" or state.masked_invitation_id is not None:
        return None
    policy = found.policy.policy
    mutuals = (
        await ctx.graph.mutual_strengths(invitee.id, inviter_id, ctx.now)
        if needs_mutuals(policy)
        else []
    )
    facts = invitation_facts(
        data.how_we_met,
        found.is_recruiter,
        (found.market_area, invitee.market_area),
        mutuals,
        ReferralStatus.NONE,
        answered=False,
    )
    suggestion = evaluate(policy, facts)
    if suggestion.automatic:
        return None
    invitation_id = uuid.uuid4()
    event = event_values(
        "invitation.sent",
        InvitationSentV1(
            invitation_id=invitation_id,
            inviter_id=inviter_id,
            invitee_id=invitee.id,
            how_we_met=data.how_we_met,
            referrer_id=None,
        ),
    )
    defaults = event_defaults()
    args = (
        inviter_id,
        found.version,
        invitation_id,
        invitee.id,
        data.note,
        data.how_we_met,
        data.my_rating,
        InvitationStatus.PENDING.value,
        ReferralStatus.NONE.value,
        json.dumps(suggestion.model_dump(mode="json")),
        ctx.now,
        event["id"],
        event["type"],
        event["version"],
        json.dumps(event["payload"]),
        event["request_id"],
        *(defaults[name] for name in ("attempts", "consumed_by", "requeues", "created_at")),
    )
    try:
        async with ctx.drive() as (driver, _):
            made = await driver.fetchrow(_WRITE, *args)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != OPEN_PAIR:
            raise
        # The other side sent theirs at the same moment.
        raise InvitationExists(f"An invitation between you and {invitee.name} is open.") from exc
    except asyncpg.ForeignKeyViolationError as exc:
        # The invitee's account went after the read, as the locked send answers it.
        raise NotFound(f"There is no member {invitee.id}.") from exc
    if made is None and changed_raises:
        raise InviterChanged
    return None if made is None else (invitation_id, quota)


@dataclass(frozen=True)
class Sending:
    """The send route's caller: ``me`` as ``VerifiedMember`` gives it, or ``found``
    (the quick read) for a send that may go the quick way."""

    claims: AccessClaims
    me: Member | None
    found: SendRead | None

    @property
    def member_id(self) -> uuid.UUID:
        return self.claims.member_id


def _named_invitee(body: bytes, claims: AccessClaims) -> uuid.UUID | None:
    """The other member the body names by a well-formed id, if any."""
    try:
        named = json.loads(body).get("to_member_id")
        invitee = uuid.UUID(named) if isinstance(named, str) else None
    except (ValueError, AttributeError, RecursionError):  # FastAPI answers these itself
        return None
    return invitee if invitee != claims.member_id else None


async def get_sending(request: Request, claims: AccessClaimsDep, ctx: ContextDep) -> Sending:
    """``VerifiedMember``, or for a send by id without an ``Idempotency-Key`` (whose row
    is claimed in the request's transaction) the quick read (``read``), refused as
    ``VerifiedMember`` refuses; either before the body is validated."""
    invitee_id = _named_invitee(await request.body(), claims)
    if invitee_id is None or "idempotency-key" in request.headers:
        me = await get_verified_member(await get_current_member(ctx.session, claims))
        return Sending(claims, me, None)
    found = await read(QuickContext.of(ctx), claims, invitee_id)
    if found is None:
        me = signed_in_member(claims, None, None)
    else:
        me = signed_in_member(claims, found.sender, found.signed_in)
    await get_verified_member(me)
    return Sending(claims, None, found)


SendingDep = Annotated[Sending, Depends(get_sending)]
