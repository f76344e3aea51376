"""Turns outbox events into notifications for the members they concern."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.db import DriverStatement
from rapport_common.events import (
    HOW_WE_MET_PHRASES,
    EventEnvelope,
    IntroductionEventV1,
    InvitationEventV1,
    RecommendationEventV1,
    parse_payload,
)
from rapport_common.models.enums import RecommendationStatus
from rapport_common.models.introductions import Introduction
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.models.recommendations import Recommendation
from rapport_common.repositories.members import MemberRepository
from rapport_common.settings import Settings
from services.notifier import driver
from services.notifier.clock import clock_of
from services.notifier.erasure.guard import held_members
from services.notifier.notifications.messages import Fact
from services.notifier.notifications.preferences import (
    PREFERENCE_COLUMNS,
    PREFERENCES,
    known_preferences,
)
from services.notifier.notifications.store import Draft, deliver, store

Builder = Callable[[AsyncSession, EventEnvelope, Any], Awaitable[list[Draft]]]


def _draft(
    envelope: EventEnvelope, kind: str, to: uuid.UUID, facts: dict[str, Fact], **data: Any
) -> Draft:
    return Draft(
        member_id=to,
        kind=kind,
        dedupe_key=f"{envelope.event_id}:{kind}:{to}",
        facts=facts,
        data={k: str(v) for k, v in data.items()},
    )


async def _names(session: AsyncSession, *ids: uuid.UUID | None) -> dict[uuid.UUID, Member]:
    """The members, those the erasure guard read for the event without a query."""
    wanted = {i for i in ids if i is not None}
    held = held_members(session)
    found = {i: held[i] for i in wanted if i in held}
    if missing := wanted - found.keys():
        found |= await MemberRepository(session).get_many(missing)
    return found


_INVITATIONS = cast(Table, Invitation.__table__)
# What the invitation's notifications read of it.
_INVITATION_COLUMNS = (
    "id",
    "referrer_id",
    "note",
    "how_we_met",
    "question",
    "question_expires_at",
)
_PREFERRED = PREFERENCES.alias("preference")
# The invitation, with every stored preference of its two members (a row each, or one
# row without any): what ``store`` would read next, in the same round trip.
_READ_INVITATION = DriverStatement(
    select(
        *(_INVITATIONS.c[name] for name in _INVITATION_COLUMNS),
        *(_PREFERRED.c[name].label(f"preference_{name}") for name in PREFERENCE_COLUMNS),
    )
    .select_from(_INVITATIONS)
    .outerjoin(
        _PREFERRED,
        _PREFERRED.c.member_id.in_([_INVITATIONS.c.inviter_id, _INVITATIONS.c.invitee_id]),
    )
    .where(_INVITATIONS.c.id == bindparam("id"))
)


async def _read_invitation(session: AsyncSession, event: InvitationEventV1) -> Invitation | None:
    """The invitation's ``_INVITATION_COLUMNS``, as a plain object (on the driver); its
    members' stored preferences are kept for ``store``."""
    rows = await driver.fetch(session, _READ_INVITATION, {"id": event.invitation_id})
    if not rows:
        return None
    preferences = [
        {name: row[f"preference_{name}"] for name in PREFERENCE_COLUMNS}
        for row in rows
        if row["preference_member_id"] is not None
    ]
    known_preferences(session, {event.inviter_id, event.invitee_id}, preferences)
    return driver.plain(Invitation, {name: rows[0][name] for name in _INVITATION_COLUMNS})


async def _invitation(
    session: AsyncSession, envelope: EventEnvelope, event: InvitationEventV1
) -> list[Draft]:
    invitation = await _read_invitation(session, event)
    members = await _names(
        session, event.inviter_id, event.invitee_id, invitation.referrer_id if invitation else None
    )
    if invitation is None or len(members) < 2:
        return []  # deleted since; nobody to tell
    inviter, invitee = members[event.inviter_id], members[event.invitee_id]
    facts: dict[str, Fact] = {
        "inviter": inviter.name,
        "invitee": invitee.name,
        "note": invitation.note,
        # Who they are, beside their words: the headline they chose to show.
        "inviter_headline": inviter.headline or "",
        "invitee_headline": invitee.headline or "",
        "how_we_met": HOW_WE_MET_PHRASES.get(invitation.how_we_met, invitation.how_we_met),
        "question": invitation.question or "",
        # Shown in each reader's own time zone and locale.
        "expires_at": invitation.question_expires_at or "",
    }
    ids = {"invitation_id": invitation.id}
    match envelope.type:
        case "invitation.sent":
            return [_draft(envelope, "invitation_received", invitee.id, facts, **ids)]
        case "invitation.accepted":
            return [
                _draft(
                    envelope, "invitation_accepted", inviter.id, facts, member_id=invitee.id, **ids
                )
            ]
        case "invitation.declined":
            note = envelope.payload["note"]
            return [
                _draft(envelope, "invitation_declined", inviter.id, facts | {"note": note}, **ids)
            ]
        case "invitation.question_asked":
            return [_draft(envelope, "question_asked", inviter.id, facts, **ids)]
        case "invitation.answered":
            return [_draft(envelope, "question_answered", invitee.id, facts, **ids)]
    referrer = members.get(invitation.referrer_id) if invitation.referrer_id else None
    if referrer is None:
        return []
    facts |= {"referrer": referrer.name}
    match envelope.type:
        case "referral.requested":
            return [_draft(envelope, "referral_requested", referrer.id, facts, **ids)]
        case "referral.confirmed" | "referral.denied":
            outcome = "confirmed" if envelope.type == "referral.confirmed" else "denied"
            return [
                _draft(
                    envelope, "referral_outcome", invitee.id, facts | {"outcome": outcome}, **ids
                )
            ]
        case "referral.false_claim":
            return [_draft(envelope, "referral_false_claim", invitee.id, facts, **ids)]
    return []


async def _introduction(
    session: AsyncSession, envelope: EventEnvelope, event: IntroductionEventV1
) -> list[Draft]:
    introduction = await session.get(Introduction, event.introduction_id)
    members = await _names(session, event.requester_id, event.intermediary_id, event.target_id)
    if introduction is None or len(members) < 3:
        return []
    facts: dict[str, Fact] = {
        "requester": members[event.requester_id].name,
        "note": introduction.note,
        "intermediary": members[event.intermediary_id].name,
        "target": members[event.target_id].name,
        "intermediary_note": introduction.intermediary_note or "",
        "declined_by": envelope.payload.get("declined_by", ""),
    }
    ids = {"introduction_id": introduction.id}
    match envelope.type:
        case "introduction.requested":
            return [_draft(envelope, "introduction_requested", event.intermediary_id, facts, **ids)]
        case "introduction.forwarded":
            return [_draft(envelope, "introduction_forwarded", event.target_id, facts, **ids)]
        case "introduction.declined":
            return [_draft(envelope, "introduction_declined", event.requester_id, facts, **ids)]
        case "introduction.accepted":
            return [
                _draft(envelope, "introduction_accepted", to, facts, **ids)
                for to in (event.requester_id, event.intermediary_id)
            ]
    return []


async def _recommendation(
    session: AsyncSession, envelope: EventEnvelope, event: RecommendationEventV1
) -> list[Draft]:
    """The subject is asked to approve; the author hears of the approval. Nothing else
    (a decline, a hide, a withdrawal) is told, and nothing once it has moved on."""
    recommendation = await session.get(Recommendation, event.recommendation_id)
    members = await _names(session, event.author_id, event.subject_id)
    if recommendation is None or len(members) < 2:
        return []
    facts: dict[str, Fact] = {
        "author": members[event.author_id].name,
        "subject": members[event.subject_id].name,
        "body": recommendation.body,
    }
    ids = {"recommendation_id": recommendation.id}
    status = recommendation.status
    if envelope.type == "recommendation.requested" and status == RecommendationStatus.REQUESTED:
        return [_draft(envelope, "recommendation_requested", event.subject_id, facts, **ids)]
    if envelope.type == "recommendation.approved" and status in (
        RecommendationStatus.APPROVED,
        RecommendationStatus.HIDDEN,
    ):
        return [_draft(envelope, "recommendation_approved", event.author_id, facts, **ids)]
    return []


def _builder_for(event_type: str) -> Builder | None:
    if event_type.startswith(("invitation.", "referral.")):
        return _invitation
    if event_type.startswith("introduction."):
        return _introduction
    if event_type.startswith("recommendation."):
        return _recommendation
    return None


def concerns(envelope: EventEnvelope) -> bool:
    """Whether ``notify`` has anything to do with the event."""
    return _builder_for(envelope.type) is not None


async def notify(ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession) -> None:
    """Store this event's notifications and email them.

    Idempotent: each notification is keyed by (event, kind, recipient), and an email
    recorded as sent (or given up) is never sent again; a rerun only finishes what is
    unsent. The notifications are committed with the first email's record (or its failed
    attempt), not in a transaction of their own; the last email's record is left for the
    event job to commit with the event's completion, right after."""
    builder = _builder_for(envelope.type)
    if builder is None:
        return
    payload: BaseModel = parse_payload(envelope)
    settings: Settings = ctx["settings"]
    drafts = await builder(session, envelope, payload)
    clock = clock_of(ctx)
    ids = await store(session, settings, drafts, clock())
    delivered = await deliver(session, settings, ctx["mailer"], ids, clock, commit_last=False)
    if delivered.refused is not None:
        raise delivered.refused  # the event's retry sends what is still unsent
