import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    Update,
    and_,
    bindparam,
    exists,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import Exists, ScalarSelect

from rapport_common.models.blocks import Block
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.enums import InvitationStatus
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.models.policies import LinkingPolicy
from services.api.invitations.send_state import (
    PAIR_STATE,
    RECORD_AND_PAIR,
    SENDING_RECORD,
    PairState,
    SendingRecord,
    pair_params,
    pair_state_from,
    record_params,
    sending_record_from,
)
from services.api.pagination import newest_first

# Aliases made once: making one copies every column of the table (a fifth of an API
# worker's time when each request made its own).
_INVITER = aliased(Member, name="inviter")
_INVITEE = aliased(Member, name="invitee")


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


def _send_lock(inviter: Any) -> Update:
    """A new version of the inviter's row, changing nothing: the row lock an update
    takes (FOR NO KEY UPDATE), and a new ``xmin``."""
    members = cast(Table, Member.__table__)
    return (
        update(members)
        .where(members.c.id == inviter)
        .values(updated_at=members.c.updated_at)
        .returning(members.c.id)
    )


def _invitee_for_send_columns() -> tuple[
    type[Member],
    Exists,
    Exists,
    type[LinkingPolicy],
    ScalarSelect[uuid.UUID],
]:
    inviter: BindParameter[uuid.UUID] = bindparam("inviter")
    invitee: BindParameter[uuid.UUID] = bindparam("invitee")
    # The send lock is a write of the inviter's row, not a bare row lock: its new
    # version (``xmin``) tells ``quick_send``'s unlocked send that a send happened.
    lock = select(_send_lock(inviter).cte("send_lock").c.id).scalar_subquery()
    return (
        Member,
        exists().where(Block.blocker_id == invitee, Block.blocked_id == inviter),
        exists().where(Block.blocker_id == inviter, Block.blocked_id == invitee),
        LinkingPolicy,
        lock,
    )


def _invitee_for_send_select() -> Select[Member, bool, bool, LinkingPolicy, uuid.UUID]:
    member, blocked_me, blocked_by_me, policy, lock = _invitee_for_send_columns()
    return (
        select(member, blocked_me, blocked_by_me, policy, lock)
        .outerjoin(LinkingPolicy, LinkingPolicy.member_id == Member.id)
        .where(Member.id == bindparam("invitee"))
    )


_LOCKED_WITH_MEMBERS = _locked_with_members_select()
# Read again, after one read without a lock: the rows' new values replace the old.
_RELOCKED_WITH_MEMBERS = _LOCKED_WITH_MEMBERS.execution_options(populate_existing=True)
_INVITEE_FOR_SEND = _invitee_for_send_select()

InviteeForSend = tuple[Member, bool, bool, LinkingPolicy | None]


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

    async def get_locked_with_members(
        self, invitation_id: uuid.UUID, *, again: bool = False
    ) -> Invitation | None:
        """The invitation, locked (its row only), with both its members loaded into the
        session in the same round trip: the rules and the answer need them. The
        invitee's stored policy comes with them (``known_policy``), which a decline
        without a note reads. ``again``: after a read without a lock (the answer's usual
        way), whose values the rows read now replace in the session."""
        query = _RELOCKED_WITH_MEMBERS if again else _LOCKED_WITH_MEMBERS
        row = (await self.session.execute(query, {"id": invitation_id})).first()
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
        row = (await self.session.execute(PAIR_STATE, pair_params(inviter, invitee))).one()
        return pair_state_from(tuple(row))

    async def lock_inviter(self, inviter: uuid.UUID) -> None:
        """Serialize one member's sends, so two at once cannot both pass a limit; the
        row's new version tells ``quick_send`` a send happened.

        An update that changes no key column locks FOR NO KEY UPDATE, not FOR UPDATE:
        the invitation's foreign keys take FOR KEY SHARE on both members' rows, which
        FOR UPDATE would block, so a send A->B and a send B->A' at once deadlocked; the
        two modes do not conflict."""
        await self.session.execute(_send_lock(inviter))

    async def invitee_for_send(
        self, inviter: uuid.UUID, invitee: uuid.UUID
    ) -> InviteeForSend | None:
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
        params = record_params(inviter, week_since, window_since, now)
        row = (await self.session.execute(SENDING_RECORD, params)).one()
        return sending_record_from(tuple(row))

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
        params = record_params(inviter, week_since, window_since, now)
        params.update(pair_params(inviter, invitee))
        row = tuple((await self.session.execute(RECORD_AND_PAIR, params)).one())
        return sending_record_from(row[:8]), pair_state_from(row[8:])

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
