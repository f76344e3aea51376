"""Invitation rules that both the API (on read) and the notifier (in its sweep) apply."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import InvitationEventV1
from rapport_common.models.enums import InvitationStatus
from rapport_common.models.invitations import Invitation
from rapport_common.outbox import record_event


def event_ref(invitation: Invitation) -> dict[str, uuid.UUID]:
    """The fields every invitation event carries."""
    return {
        "invitation_id": invitation.id,
        "inviter_id": invitation.inviter_id,
        "invitee_id": invitation.invitee_id,
    }


def question_due(invitation: Invitation, now: datetime) -> bool:
    """Whether the invitation's question went unanswered past its expiry."""
    expires = invitation.question_expires_at
    return (
        invitation.status == InvitationStatus.AWAITING_ANSWER
        and expires is not None
        and expires <= now
    )


async def expire_if_due(session: AsyncSession, invitation: Invitation, now: datetime) -> bool:
    """Close the invitation if its question went unanswered past its expiry.

    Called when the invitation is read, and by the notifier's sweep; whichever comes
    first closes it, the other finds it closed."""
    if not question_due(invitation, now):
        return False
    invitation.status = InvitationStatus.EXPIRED
    invitation.closed_at = now
    await record_event(session, "invitation.expired", InvitationEventV1(**event_ref(invitation)))
    return True
