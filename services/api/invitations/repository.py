import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from rapport_common.models.blocks import Block
from rapport_common.models.connections import Connection
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.enums import OPEN_INVITATION_STATUSES, InvitationStatus, ReferralStatus
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.models.policies import LinkingPolicy
from services.api.pagination import newest_first

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
# worker's time when each request made its own).
_INVITER = aliased(Member, name="inviter")
_INVITEE = aliased(Member, name="invitee")
_LOCKED = aliased(Member, name="locked_inviter")
_BECAME = aliased(Invitation, name="became")


# The statements of the hot paths are built once, with bind parameters: building them
# per request (coercing every operand, then deriving the cache key) cost more than
# running them.
def _locked_with_members_select() -> Select[Invitation, Member, Member, LinkingPolicy]:
    return (
        select(Invitation, _INVITER, _INVITEE, LinkingPolicy)
        .join(_INVITER, _INVITER.id == Invitation.inviter_id)
        .join(_INVITEE, _INVITEE.id == Invitation.invitee_id)
        .outerjoin(LinkingPolicy, LinkingPolicy.member_id == Invitation.invitee_id)
        .where(Invitation.id == bindparam("id"))
        .with_for_update(of=Invitation)
    )


def _invitee_for_send_select() -> Select[Member, bool, bool, LinkingPolicy, uuid.UUID]:
    inviter: BindParameter[uuid.UUID] = bindparam("inviter")
    invitee: BindParameter[uuid.UUID] = bindparam("invitee")
    lock = (
        select(_LOCKED.id)
        .where(_LOCKED.id == inviter)
        .with_for_update(key_share=True)
        .scalar_subquery()
    )
    return (
        select(
            Member,
            exists().where(Block.blocker_id == invitee, Block.blocked_id == inviter),
            exists().where(Block.blocker_id == inviter, Block.blocked_id == invitee),
            LinkingPolicy,
            lock,
        )
        .outerjoin(LinkingPolicy, LinkingPolicy.member_id == Member.id)
        .where(Member.id == invitee)
    )


_LOCKED_WITH_MEMBERS = _locked_with_members_select()
_INVITEE_FOR_SEND = _invitee_for_send_select()


class InvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # The session's identity map holds rows weakly: what a query loaded alongside
        # is kept here for the request, so that a later lookup finds it loaded.
        self._kept: list[Member] = []
        self._policies: dict[uuid.UUID, LinkingPolicy | None] = {}

    async def get(self, invitation_id: uuid.UUID, for_update: bool = False) -> Invitation | None:
        query = select(Invitation).where(Invitation.id == invitation_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_locked_with_members(self, invitation_id: uuid.UUID) -> Invitation | None:
        """The invitation, locked (its row only), with both its members loaded into the
        session in the same round trip: the rules and the answer need them. The
        invitee's stored policy comes with them (``known_policy``), which a decline
        without a note reads."""
        row = (await self.session.execute(_LOCKED_WITH_MEMBERS, {"id": invitation_id})).first()
        if row is None:
            return None
        invitation, inviter, invitee, policy = row
        self._kept += [inviter, invitee]
        self._policies[invitee.id] = policy
        return invitation

    def known_policy(self, member_id: uuid.UUID) -> tuple[bool, LinkingPolicy | None]:
        """(True, the member's policy row or None) when this request read it already."""
        if member_id in self._policies:
            return True, self._policies[member_id]
        return False, None

    async def pair_state(self, inviter: uuid.UUID, invitee: uuid.UUID) -> PairState:
        """See ``PAIR_STATE``."""
        row = (await self.session.execute(PAIR_STATE, _pair_params(inviter, invitee))).one()
        return _pair_state(tuple(row))

    async def lock_inviter(self, inviter: uuid.UUID) -> None:
        """Serialize one member's sends, so two at once cannot both pass a limit.

        FOR NO KEY UPDATE, not FOR UPDATE: the invitation's foreign keys take FOR KEY
        SHARE on both members' rows, which FOR UPDATE would block, so a send A->B and a
        send B->A' at once deadlocked; the two modes do not conflict."""
        query = select(Member.id).where(Member.id == inviter).with_for_update(key_share=True)
        await self.session.execute(query)

    async def invitee_for_send(
        self, inviter: uuid.UUID, invitee: uuid.UUID
    ) -> tuple[Member, bool, bool, LinkingPolicy | None] | None:
        """What a send by id needs first, in one round trip, and the inviter's send lock
        (``lock_inviter``) when the invitee exists: the invitee, whether they blocked
        the inviter, whether the inviter blocked them, and the invitee's stored policy.
        None when there is no such member."""
        params = {"inviter": inviter, "invitee": invitee}
        row = (await self.session.execute(_INVITEE_FOR_SEND, params)).first()
        if row is None:
            return None
        member, blocked_me, blocked_by_me, policy, _ = row
        return member, bool(blocked_me), bool(blocked_by_me), policy

    async def sent_since(self, inviter: uuid.UUID, since: datetime) -> Sequence[datetime]:
        """Creation times of the inviter's invitations since ``since``, by id or by
        email, oldest first."""
        by_id = select(Invitation.created_at).where(
            Invitation.inviter_id == inviter,
            Invitation.created_at > since,
            Invitation.email_invitation_id.is_(None),
        )
        by_email = select(EmailInvitation.created_at).where(
            EmailInvitation.inviter_id == inviter, EmailInvitation.created_at > since
        )
        query = by_id.union_all(by_email).order_by("created_at")
        return (await self.session.execute(query)).scalars().all()

    async def sending_record(
        self, inviter: uuid.UUID, week_since: datetime, window_since: datetime, now: datetime
    ) -> SendingRecord:
        """See ``SENDING_RECORD``."""
        params = _record_params(inviter, week_since, window_since, now)
        return _sending_record(tuple((await self.session.execute(SENDING_RECORD, params)).one()))

    async def record_and_pair(
        self,
        inviter: uuid.UUID,
        invitee: uuid.UUID,
        week_since: datetime,
        window_since: datetime,
        now: datetime,
    ) -> tuple[SendingRecord, PairState]:
        """``sending_record`` and ``pair_state`` in one round trip (each is one row).
        Run it after ``lock_inviter``, as a statement of its own: a statement sees what
        was committed when it started, so only then does it count a send that held the
        lock a moment ago."""
        params = _record_params(inviter, week_since, window_since, now)
        params.update(_pair_params(inviter, invitee))
        row = tuple((await self.session.execute(RECORD_AND_PAIR, params)).one())
        return _sending_record(row[:8]), _pair_state(row[8:])

    def box_query(self, member_id: uuid.UUID, box: str, now: datetime) -> Select[Invitation]:
        if box == "sent":
            # One sent by email shows once accepted: until then it is not the sender's to see.
            return select(Invitation).where(
                Invitation.inviter_id == member_id,
                or_(
                    Invitation.email_invitation_id.is_(None),
                    Invitation.status == InvitationStatus.ACCEPTED,
                ),
            )
        deferred = Invitation.status == InvitationStatus.DEFERRED
        deferred_until_later = and_(deferred, Invitation.later_until > now)
        if box == "later":
            return select(Invitation).where(
                Invitation.invitee_id == member_id, deferred_until_later
            )
        back_from_later = and_(deferred, Invitation.later_until <= now)
        waiting = (InvitationStatus.PENDING, InvitationStatus.AWAITING_ANSWER)
        return select(Invitation).where(
            Invitation.invitee_id == member_id,
            or_(Invitation.status.in_(waiting), back_from_later),
        )

    async def page(
        self,
        query: Select[Invitation],
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[Invitation]:
        query = newest_first(query, Invitation.created_at, Invitation.id, limit, after)
        return (await self.session.execute(query)).scalars().all()


WEEK = timedelta(days=7)


def _pair_state_select() -> Select[Any]:
    """In one round trip: are they connected, is an invitation open between them
    (either way), and when did this inviter last withdraw one to this invitee, or
    have one declined. Closing an invitation sent by email is quiet, so it never
    counts as a withdrawal, and its declines are kept apart.

    Built once, with bind parameters (``_pair_params``): building it per request was
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


def _pair_params(inviter: uuid.UUID, invitee: uuid.UUID) -> dict[str, Any]:
    low, high = Connection.pair(inviter, invitee)
    return {"inviter": inviter, "invitee": invitee, "low": low, "high": high}


def _pair_state(row: tuple[Any, ...]) -> PairState:
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

    Built once, with bind parameters (``_record_params``)."""
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
    became = _BECAME
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


def _record_params(
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


def _sending_record(row: tuple[Any, ...]) -> SendingRecord:
    sent, oldest, open_, decided_, negative_, emailed, oldest_emailed, open_emailed = row
    oldests = [moment for moment in (oldest, oldest_emailed) if moment is not None]
    return SendingRecord(
        sent + emailed, min(oldests, default=None), open_ + open_emailed, decided_, negative_
    )
