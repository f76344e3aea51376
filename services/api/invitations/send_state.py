"""What a send reads before it writes: the pair's state (connected, an invitation open,
the last withdrawal or decline) and the inviter's sending record (for the limits), as
statements built once with bind parameters, and the rows they give back as values.
``InvitationRepository`` runs them."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from rapport_common.models.connections import Connection
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.enums import OPEN_INVITATION_STATUSES, InvitationStatus, ReferralStatus
from rapport_common.models.invitations import Invitation

DECIDED = (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED)
NEGATIVE_REFERRALS = (ReferralStatus.DENIED, ReferralStatus.FALSE_CLAIM)


@dataclass(frozen=True)
class PairState:
    connected: bool
    open_invitation_id: uuid.UUID | None
    open_invitation_inviter_id: uuid.UUID | None
    last_withdrawn_at: datetime | None
    # The open invitation was sent by email: its inviter does not know it exists.
    open_invitation_masked: bool = False
    # This inviter's last invitation to this invitee declined (or reported) by hand, and
    # the last one sent by email and declined quietly.
    last_declined_at: datetime | None = None
    last_masked_declined_at: datetime | None = None


@dataclass(frozen=True)
class SendingRecord:
    sent_this_week: int
    oldest_this_week: datetime | None
    open: int
    decided: int
    negative: int


# Aliases made once: making one copies every column of the table (a fifth of an API


# Made once: making an alias copies every column of the table.
BECAME = aliased(Invitation, name="became")


WEEK = timedelta(days=7)


def _pair_state_select() -> Select[Any]:
    """In one round trip: are they connected, is an invitation open between them
    (either way), and when did this inviter last withdraw one to this invitee, or
    have one declined. Closing an invitation sent by email is quiet, so it never
    counts as a withdrawal, and its declines are kept apart.

    Built once, with bind parameters (``pair_params``): building it per request was
    a tenth of an API worker's time on the send path."""
    inviter: BindParameter[uuid.UUID] = bindparam("inviter")
    invitee: BindParameter[uuid.UUID] = bindparam("invitee")
    low: BindParameter[uuid.UUID] = bindparam("low")
    high: BindParameter[uuid.UUID] = bindparam("high")
    either_way = or_(
        and_(Invitation.inviter_id == inviter, Invitation.invitee_id == invitee),
        and_(Invitation.inviter_id == invitee, Invitation.invitee_id == inviter),
    )
    open_invitation = (
        select(
            Invitation.id,
            Invitation.inviter_id,
            Invitation.email_invitation_id.is_not(None).label("masked"),
        )
        .where(Invitation.status.in_(OPEN_INVITATION_STATUSES), either_way)
        .limit(1)
        .subquery()
    )
    mine = (Invitation.inviter_id == inviter) & (Invitation.invitee_id == invitee)
    by_id = Invitation.email_invitation_id.is_(None)
    declined = Invitation.status == InvitationStatus.DECLINED
    closed = (
        select(
            func.max(Invitation.closed_at)
            .filter(by_id, Invitation.status == InvitationStatus.WITHDRAWN)
            .label("withdrawn_at"),
            func.max(Invitation.closed_at).filter(by_id, declined).label("declined_at"),
            func.max(Invitation.closed_at).filter(~by_id, declined).label("quiet_at"),
        )
        .where(
            mine,
            Invitation.status.in_((InvitationStatus.WITHDRAWN, InvitationStatus.DECLINED)),
        )
        .subquery()
    )
    return select(
        exists()
        .where(Connection.member_low_id == low, Connection.member_high_id == high)
        .label("connected"),
        select(open_invitation.c.id).scalar_subquery().label("open_id"),
        select(open_invitation.c.inviter_id).scalar_subquery().label("open_inviter_id"),
        select(open_invitation.c.masked).scalar_subquery().label("open_masked"),
        closed.c.withdrawn_at,
        closed.c.declined_at,
        closed.c.quiet_at,
    )


PAIR_STATE = _pair_state_select()


def pair_params(inviter: uuid.UUID, invitee: uuid.UUID) -> dict[str, Any]:
    low, high = Connection.pair(inviter, invitee)
    return {"inviter": inviter, "invitee": invitee, "low": low, "high": high}


def pair_state_from(row: tuple[Any, ...]) -> PairState:
    connected, open_id, open_inviter, masked, withdrawn_at, declined_at, quiet_at = row
    return PairState(
        connected, open_id, open_inviter, withdrawn_at, bool(masked), declined_at, quiet_at
    )


def _sending_record_select() -> Select[Any]:
    """Everything the sending limits need, in one query over the inviter's
    invitations: sent this week (and the oldest of those), open now, and among those
    closed since ``window_since`` how many were decided and how many went badly
    (declined, reported, or with a denied or false referral claim).

    An invitation by email counts once, by its ``email_invitations`` row, whoever
    the address belongs to: sent when typed, open until it expires, is withdrawn or
    its invitation is accepted. The invitation it may have become for a member is
    left out of every count, so the inviter's limits read the same either way.

    Built once, with bind parameters (``record_params``)."""
    inviter: BindParameter[uuid.UUID] = bindparam("inviter")
    now: BindParameter[datetime] = bindparam("now")
    week_since: BindParameter[datetime] = bindparam("week_since")
    window_since: BindParameter[datetime] = bindparam("window_since")
    decided = Invitation.status.in_(DECIDED) & (Invitation.closed_at > window_since)
    negative = decided & (
        (Invitation.status == InvitationStatus.DECLINED)
        | Invitation.referral_status.in_(NEGATIVE_REFERRALS)
    )
    this_week = Invitation.created_at > week_since
    mine_by_email = EmailInvitation.inviter_id == inviter
    emailed_this_week = mine_by_email & (EmailInvitation.created_at > week_since)
    became = BECAME
    accepted = (
        select(became.id)
        .where(
            became.id == EmailInvitation.invitation_id,
            became.status == InvitationStatus.ACCEPTED,
        )
        .correlate(EmailInvitation)
        .exists()
    )
    return select(
        func.count().filter(this_week).label("sent"),
        func.min(Invitation.created_at).filter(this_week).label("oldest"),
        func.count().filter(Invitation.status.in_(OPEN_INVITATION_STATUSES)).label("open"),
        func.count().filter(decided).label("decided"),
        func.count().filter(negative).label("negative"),
        select(func.count()).where(emailed_this_week).scalar_subquery().label("emailed"),
        select(func.min(EmailInvitation.created_at))
        .where(emailed_this_week)
        .scalar_subquery()
        .label("oldest_emailed"),
        select(func.count())
        .where(
            mine_by_email,
            EmailInvitation.withdrawn_at.is_(None),
            EmailInvitation.expires_at > now,
            ~accepted,
        )
        .scalar_subquery()
        .label("open_emailed"),
    ).where(
        Invitation.inviter_id == inviter,
        Invitation.email_invitation_id.is_(None),
        # Older, closed invitations cannot count towards any limit.
        or_(
            Invitation.created_at > bindparam("either_since"),
            Invitation.status.in_(OPEN_INVITATION_STATUSES),
            Invitation.closed_at > window_since,
        ),
    )


SENDING_RECORD = _sending_record_select()


def record_params(
    inviter: uuid.UUID, week_since: datetime, window_since: datetime, now: datetime
) -> dict[str, Any]:
    return {
        "inviter": inviter,
        "week_since": week_since,
        "window_since": window_since,
        "either_since": min(week_since, window_since),
        "now": now,
    }


def _record_and_pair_select() -> Select[Any]:
    """``SENDING_RECORD`` and ``PAIR_STATE`` in one round trip: each is one row, so a
    join on true is their one combined row."""
    record, pair = SENDING_RECORD.subquery(), PAIR_STATE.subquery()
    return select(record, pair).select_from(record.join(pair, true()))


RECORD_AND_PAIR = _record_and_pair_select()


def sending_record_from(row: tuple[Any, ...]) -> SendingRecord:
    sent, oldest, open_, decided_, negative_, emailed, oldest_emailed, open_emailed = row
    oldests = [moment for moment in (oldest, oldest_emailed) if moment is not None]
    return SendingRecord(
        sent + emailed, min(oldests, default=None), open_ + open_emailed, decided_, negative_
    )
