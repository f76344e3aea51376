"""The archive's sections about the member's dealings with others, each as the API shows
it to them: my side of every connection (my rating, never theirs), my notes and tags, the
interactions I logged, invitations and introductions as my role may see them,
recommendations I wrote or received, whom I blocked, the addresses I invited. Another
member appears by id and name only."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rapport_common.models.blocks import Block
from rapport_common.models.connections import Connection, Interaction
from rapport_common.models.email_invitations import EmailInvitation
from rapport_common.models.enums import InvitationStatus
from rapport_common.models.introductions import Introduction
from rapport_common.models.invitations import Invitation
from rapport_common.models.notes import ConnectionNote
from rapport_common.models.recommendations import Recommendation
from rapport_common.repositories.members import MemberRepository

Row = dict[str, Any]


class People:
    """Other members as the archive names them: id and name, nothing of their own."""

    def __init__(self, session: AsyncSession) -> None:
        self.repository = MemberRepository(session)
        self.names: dict[uuid.UUID, str] = {}

    async def load(self, ids: set[uuid.UUID]) -> None:
        missing = {i for i in ids if i not in self.names}
        found = await self.repository.get_many(missing) if missing else {}
        self.names |= {member_id: member.name for member_id, member in found.items()}

    def __call__(self, member_id: uuid.UUID | None) -> Row | None:
        if member_id is None:
            return None
        return {"member_id": member_id, "name": self.names.get(member_id)}


async def connections(session: AsyncSession, me: uuid.UUID, people: People) -> list[Row]:
    rows = (
        (
            await session.execute(
                select(Connection)
                .where(or_(Connection.member_low_id == me, Connection.member_high_id == me))
                .order_by(Connection.connected_at)
            )
        )
        .scalars()
        .all()
    )
    await people.load({c.other(me) for c in rows})
    return [
        {
            "member": people(c.other(me)),
            "how_we_met": c.how_we_met,
            "connected_at": c.connected_at,
            "last_interaction_at": c.last_interaction_at,
            "my_rating": c.rating_by(me),
        }
        for c in rows
    ]


async def notes(session: AsyncSession, me: uuid.UUID, people: People) -> list[Row]:
    rows = (
        (
            await session.execute(
                select(ConnectionNote)
                .where(ConnectionNote.owner_id == me)
                .order_by(ConnectionNote.updated_at)
            )
        )
        .scalars()
        .all()
    )
    await people.load({n.other_id for n in rows})
    return [
        {
            "member": people(n.other_id),
            "note": n.note,
            "tags": list(n.tags or []),
            "updated_at": n.updated_at,
        }
        for n in rows
    ]


async def interactions(session: AsyncSession, me: uuid.UUID, people: People) -> list[Row]:
    """The ones I logged; the other member's log is theirs."""
    rows = (
        (
            await session.execute(
                select(Interaction)
                .where(Interaction.logged_by == me)
                .order_by(Interaction.occurred_at, Interaction.id)
            )
        )
        .scalars()
        .all()
    )
    other = {i.id: i.member_high_id if i.member_low_id == me else i.member_low_id for i in rows}
    await people.load(set(other.values()))
    return [
        {
            "interaction_id": i.id,
            "member": people(other[i.id]),
            "kind": i.kind,
            "occurred_at": i.occurred_at,
            "logged_at": i.created_at,
        }
        for i in rows
    ]


async def blocks(session: AsyncSession, me: uuid.UUID, people: People) -> list[Row]:
    """Whom I blocked; never who blocked me (the blocked member is never told)."""
    rows = (
        (
            await session.execute(
                select(Block).where(Block.blocker_id == me).order_by(Block.created_at)
            )
        )
        .scalars()
        .all()
    )
    await people.load({b.blocked_id for b in rows})
    return [{"member": people(b.blocked_id), "blocked_at": b.created_at} for b in rows]


async def invitations(session: AsyncSession, me: uuid.UUID, people: People) -> Row:
    """Sent and received, as ``services/api/invitations/views.py`` shows each side: the
    inviter's rating to the inviter only; the referral, the policy's suggestion and my
    report to the invitee only; one sent by email stays hidden from its sender until
    accepted (docs/privacy.md, "Email addresses")."""
    sent_visible = or_(
        Invitation.email_invitation_id.is_(None), Invitation.status == InvitationStatus.ACCEPTED
    )
    rows = (
        (
            await session.execute(
                select(Invitation)
                .where(
                    or_(
                        (Invitation.inviter_id == me) & sent_visible,
                        Invitation.invitee_id == me,
                    )
                )
                .order_by(Invitation.created_at, Invitation.id)
            )
        )
        .scalars()
        .all()
    )
    await people.load({i.inviter_id for i in rows} | {i.invitee_id for i in rows})
    sent = [_invitation(i, people, as_invitee=False) for i in rows if i.inviter_id == me]
    received = [_invitation(i, people, as_invitee=True) for i in rows if i.invitee_id == me]
    return {"sent": sent, "received": received}


def _invitation(invitation: Invitation, people: People, *, as_invitee: bool) -> Row:
    row: Row = {
        "invitation_id": invitation.id,
        "inviter": people(invitation.inviter_id),
        "invitee": people(invitation.invitee_id),
        "note": invitation.note,
        "how_we_met": invitation.how_we_met,
        "status": invitation.status,
        "created_at": invitation.created_at,
        "closed_at": invitation.closed_at,
        "question": invitation.question,
        "question_expires_at": invitation.question_expires_at,
        "answer": invitation.answer,
        "decline_note": invitation.decline_note,
        "introduced": invitation.introduction_id is not None,
    }
    if as_invitee:
        row |= {
            "later_until": invitation.later_until,
            "referral": {
                "referrer_id": invitation.referrer_id,
                "status": invitation.referral_status,
            },
            "suggestion": invitation.suggestion,
            "my_report": invitation.report_reason,
        }
    else:
        row |= {"my_rating": invitation.inviter_rating}
    return row


async def email_invitations(session: AsyncSession, me: uuid.UUID, now: datetime) -> list[Row]:
    """The addresses I typed, with what the API's list shows me: accepted only once the
    invitation it became was accepted, so nothing here says whether an address is a
    member's."""
    became = aliased(Invitation)
    rows = await session.execute(
        select(EmailInvitation, became.status)
        .outerjoin(became, became.id == EmailInvitation.invitation_id)
        .where(EmailInvitation.inviter_id == me)
        .order_by(EmailInvitation.created_at, EmailInvitation.id)
    )
    return [
        {
            "email_invitation_id": sent.id,
            "email": sent.address,
            "note": sent.note,
            "how_we_met": sent.how_we_met,
            "created_at": sent.created_at,
            "expires_at": sent.expires_at,
            "status": _email_status(sent, status, now),
        }
        for sent, status in rows
    ]


def _email_status(sent: EmailInvitation, became: InvitationStatus | None, now: datetime) -> str:
    # As services/api/invitations/email.py's status_of: a quiet decline stays "sent".
    if became == InvitationStatus.ACCEPTED:
        return "accepted"
    if sent.withdrawn_at is not None:
        return "withdrawn"
    if sent.expires_at <= now:
        return "expired"
    return "sent"


async def introductions(session: AsyncSession, me: uuid.UUID, people: People) -> list[Row]:
    """Those I see in the API: the target's only once passed on to them, and without the
    requester's note (it was written to the intermediary)."""
    rows = (
        (
            await session.execute(
                select(Introduction)
                .where(
                    or_(
                        Introduction.requester_id == me,
                        Introduction.intermediary_id == me,
                        Introduction.target_id == me,
                    )
                )
                .order_by(Introduction.created_at, Introduction.id)
            )
        )
        .scalars()
        .all()
    )
    visible = [(i, i.visible_role(me)) for i in rows]
    await people.load({m for i in rows for m in (i.requester_id, i.intermediary_id, i.target_id)})
    return [
        {
            "introduction_id": i.id,
            "my_role": role,
            "requester": people(i.requester_id),
            "intermediary": people(i.intermediary_id),
            "target": people(i.target_id),
            "status": i.status,
            "declined_by": i.declined_by,
            "note": None if role == "target" else i.note,
            "intermediary_note": i.intermediary_note,
            "invitation_id": i.invitation_id,
            "created_at": i.created_at,
            "updated_at": i.updated_at,
        }
        for i, role in visible
        if role is not None
    ]


async def recommendations(session: AsyncSession, me: uuid.UUID, people: People) -> Row:
    rows = (
        (
            await session.execute(
                select(Recommendation)
                .where(or_(Recommendation.author_id == me, Recommendation.subject_id == me))
                .order_by(Recommendation.created_at, Recommendation.id)
            )
        )
        .scalars()
        .all()
    )
    await people.load({r.other(me) for r in rows})

    def shown(r: Recommendation) -> Row:
        return {
            "recommendation_id": r.id,
            "author": people(r.author_id),
            "subject": people(r.subject_id),
            "body": r.body,
            "status": r.status,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "approved_at": r.approved_at,
        }

    return {
        "written": [shown(r) for r in rows if r.author_id == me],
        "received": [shown(r) for r in rows if r.subject_id == me],
    }
