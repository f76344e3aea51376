"""Blocking: what a block closes between two members, quietly. The blocked member is
never told; to them the blocker looks like no member at all (docs/privacy.md)."""

import uuid
from datetime import datetime

from rapport_common.domain.invitations import event_ref
from rapport_common.events import BlockEventV1, IntroductionDeclinedV1, InvitationEventV1
from rapport_common.models.enums import (
    IntroductionDecliner,
    IntroductionStatus,
    InvitationStatus,
)
from rapport_common.models.introductions import Introduction
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.repositories.blocks import BlockRepository
from rapport_common.web.problems import NotFound
from services.api.blocks.repository import BlockingRepository
from services.api.connections import service as connections
from services.api.connections.repository import ConnectionRepository
from services.api.recommendations import service as recommendations
from services.api.recommendations.repository import RecommendationRepository


class NotBlocked(NotFound):
    slug, title = "not-blocked", "Not blocked"


def _decliner(introduction: Introduction, blocker: uuid.UUID) -> IntroductionDecliner:
    """The role the close is shown under: the blocker's, where they could have declined
    it themselves; else the intermediary's, who stands between the other two."""
    if introduction.target_id == blocker and introduction.reached_target:
        return IntroductionDecliner.TARGET
    return IntroductionDecliner.INTERMEDIARY


async def block(blocking: BlockingRepository, me: Member, other: Member, now: datetime) -> None:
    """Block ``other``: the connection goes (through the outbox, so the graph follows),
    and what is open between us closes without a notification or a webhook to anyone.
    Idempotent: blocking again changes nothing."""
    session = blocking.session
    await blocking.write_both(me.id, other.id)
    if not await BlockRepository(session).add(me.id, other.id, now):
        return
    # The open invitations are locked before the connection is read: an accept being
    # written at this moment holds its invitation's row, so the lock waits for it and
    # the read that follows sees the connection it made (it goes like any other).
    # Read first, that connection would be missed and outlive the block.
    invitations = await blocking.open_invitations_between(me.id, other.id)
    connection_repository = ConnectionRepository(session)
    connection = await connection_repository.get(me.id, other.id, for_update=True)
    if connection is not None:
        await connections.remove(connection_repository, me, connection, now)
    for invitation in invitations:
        invitation.status = InvitationStatus.EXPIRED
        invitation.closed_at = now
        await record_event(
            session, "invitation.expired", InvitationEventV1(**event_ref(invitation))
        )
    for introduction in await blocking.open_introductions_between(me.id, other.id):
        introduction.status = IntroductionStatus.DECLINED
        introduction.declined_by = _decliner(introduction, me.id)
        await record_event(
            session,
            "introduction.closed",
            IntroductionDeclinedV1(
                introduction_id=introduction.id,
                requester_id=introduction.requester_id,
                intermediary_id=introduction.intermediary_id,
                target_id=introduction.target_id,
                declined_by=introduction.declined_by,
            ),
        )
    await recommendations.close_between(RecommendationRepository(session), me.id, other.id, now)
    await record_event(
        session, "block.created", BlockEventV1(blocker_id=me.id, blocked_id=other.id)
    )


async def unblock(blocks: BlockRepository, me: Member, member_id: uuid.UUID) -> None:
    """Lift my block; what it closed stays closed."""
    if not await blocks.remove(me.id, member_id):
        raise NotBlocked(f"You have not blocked member {member_id}.")
    await record_event(
        blocks.session,
        "block.removed",
        BlockEventV1(blocker_id=me.id, blocked_id=member_id),
    )
