"""Whether I may invite a member now, and if not, why: the one answer that sending
enforces and the profile card shows, so the two always agree."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from rapport_common.models.members import Member
from rapport_common.repositories.blocks import BlockRepository
from rapport_common.settings import Settings
from services.api.invitations.context import InvitationContext
from services.api.invitations.send_state import PairState

State = Literal[
    "connected",
    "possible",
    "sent",
    "received",
    "withdrawn_recently",
    "declined_recently",
    "blocked_by_me",
]


@dataclass(frozen=True)
class Availability:
    state: State
    # The open invitation between us, for ``sent`` and ``received``.
    invitation_id: uuid.UUID | None = None
    # When I may invite again, for ``withdrawn_recently`` and ``declined_recently``;
    # None with ``declined_recently`` means never.
    possible_from: datetime | None = None
    # My invitation by email to them, still open: I cannot see it, so it reads as
    # ``possible``, and an invitation by id closes it first.
    masked_invitation_id: uuid.UUID | None = None


class Invitable(Protocol):
    """What judging needs of the other member: a ``Member``, or the values of one."""

    @property
    def decline_cooldown_days(self) -> int | None: ...


def _declined_until(declined_at: datetime, invitee: Invitable) -> datetime | None:
    """The end of the cool-down the invitee chose (their setting now, not when they
    declined); None when they chose never."""
    days = invitee.decline_cooldown_days
    return None if days is None else declined_at + timedelta(days=days)


async def invitation_state(
    ctx: InvitationContext, me: Member, other: Member, *, by_email: bool = False
) -> Availability:
    """``by_email``: a quiet decline of an invitation by email counts too. It never
    counts for an invitation by id, which would then tell the sender that the address
    they once typed is this member's."""
    if await BlockRepository(ctx.session).blocks(me.id, other.id):
        return Availability("blocked_by_me")
    pair = await ctx.invitations.pair_state(me.id, other.id)
    return judge(ctx, me.id, other, pair, by_email=by_email)


class Rules(Protocol):
    """What ``judge`` reads of a request's context: the settings and the time."""

    @property
    def settings(self) -> Settings: ...

    @property
    def now(self) -> datetime: ...


def judge(
    ctx: Rules,
    me: uuid.UUID,
    other: Invitable,
    pair: PairState,
    *,
    by_email: bool = False,
) -> Availability:
    """``invitation_state`` on what was already read: the pair, when I (``me``) have
    not blocked ``other``."""
    if pair.connected:
        return Availability("connected")
    masked_id = None
    if pair.open_invitation_id is not None:
        mine = pair.open_invitation_inviter_id == me
        if not (mine and pair.open_invitation_masked):
            return Availability("sent" if mine else "received", pair.open_invitation_id)
        masked_id = pair.open_invitation_id
    withdrawn_at = pair.last_withdrawn_at
    if withdrawn_at is not None:
        until = withdrawn_at + timedelta(days=ctx.settings.invitations.reinvite_block_days)
        if until > ctx.now:
            return Availability("withdrawn_recently", possible_from=until)
    declines = [pair.last_declined_at] + ([pair.last_masked_declined_at] if by_email else [])
    known = [moment for moment in declines if moment is not None]
    if known:
        declined_until = _declined_until(max(known), other)
        if declined_until is None or declined_until > ctx.now:
            return Availability("declined_recently", possible_from=declined_until)
    return Availability("possible", masked_invitation_id=masked_id)
