"""How an invitation looks to each of its two members: each sees only their own ratings,
notes and suggestions."""

import uuid
from collections.abc import Sequence

from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.repositories.members import MemberRepository
from services.api.invitations.schemas import InvitationOut, MemberSummary, ReferralOut
from services.api.policies.schemas import Suggestion
from services.api.schemas import from_storage


def _summary(member: Member) -> MemberSummary:
    return MemberSummary(member_id=member.id, name=member.name, headline=member.headline)


def render(
    invitation: Invitation, viewer: Member, members: dict[uuid.UUID, Member]
) -> InvitationOut:
    is_invitee = viewer.id == invitation.invitee_id
    return InvitationOut(
        invitation_id=invitation.id,
        my_role="invitee" if is_invitee else "inviter",
        inviter=_summary(members[invitation.inviter_id]),
        invitee=_summary(members[invitation.invitee_id]),
        note=invitation.note,
        how_we_met=invitation.how_we_met,
        status=invitation.status,
        created_at=invitation.created_at,
        closed_at=invitation.closed_at,
        question=invitation.question,
        question_expires_at=invitation.question_expires_at,
        answer=invitation.answer,
        later_until=invitation.later_until,
        decline_note=invitation.decline_note,
        introduced=invitation.introduction_id is not None,
        referral=(
            ReferralOut(referrer_id=invitation.referrer_id, status=invitation.referral_status)
            if is_invitee
            else None
        ),
        suggestion=(
            from_storage(Suggestion, invitation.suggestion)
            if is_invitee and invitation.suggestion
            else None
        ),
        my_rating=None if is_invitee else invitation.inviter_rating,
    )


async def render_many(
    repository: MemberRepository, invitations: Sequence[Invitation], viewer: Member
) -> list[InvitationOut]:
    ids = {i.inviter_id for i in invitations} | {i.invitee_id for i in invitations}
    members = await repository.get_many(ids)
    return [render(invitation, viewer, members) for invitation in invitations]
