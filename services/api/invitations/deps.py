"""Dependencies that load an invitation *and* check who may see it."""

import uuid
from typing import Annotated

from fastapi import Depends, Request

from rapport_common.domain.invitations import expire_if_due
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member
from rapport_common.web.problems import NotFound
from services.api.clock import get_clock
from services.api.deps import (
    CurrentMember,
    SessionDep,
)
from services.api.graph_client import get_graph
from services.api.invitations.context import InvitationContext


async def get_context(request: Request, session: SessionDep) -> InvitationContext:
    """The graph client, the settings and the time, taken here as their own
    dependencies give them (``GraphDep``, ``SettingsDep``, ``Now``) rather than as four
    more dependencies, each solved again at every request: dependencies solved per
    invitation call 23 -> 13 in-process."""
    clock = await get_clock(request)
    graph = await get_graph(request)
    return InvitationContext(session, graph, request.app.state.settings, clock())


ContextDep = Annotated[InvitationContext, Depends(get_context)]


def _not_found(invitation_id: uuid.UUID) -> NotFound:
    # The same answer whether it does not exist or is someone else's: no existence leak.
    return NotFound(f"You have no invitation {invitation_id}.")


async def get_my_invitation(
    invitation_id: uuid.UUID, me: CurrentMember, ctx: ContextDep
) -> Invitation:
    """The invitation, locked for this request, if I sent or received it. One I sent by
    email is not mine to see until it is accepted. Both members come with it."""
    return await lock_my_invitation(ctx, me, invitation_id)


async def lock_my_invitation(
    ctx: InvitationContext, me: Member, invitation_id: uuid.UUID, *, again: bool = False
) -> Invitation:
    """``get_my_invitation``; ``again``: after it was read without a lock."""
    invitation = await ctx.invitations.get_locked_with_members(invitation_id, again=again)
    role = invitation.role_of(me.id) if invitation is not None else None
    if invitation is None or role is None or (role == "inviter" and invitation.is_masked):
        raise _not_found(invitation_id)
    await expire_if_due(ctx.session, invitation, ctx.now)
    return invitation


async def get_referred_invitation(
    invitation_id: uuid.UUID, me: CurrentMember, ctx: ContextDep
) -> Invitation:
    """The invitation, if it names me as the referrer."""
    invitation = await ctx.invitations.get(invitation_id, for_update=True)
    if invitation is None or invitation.referrer_id != me.id:
        raise _not_found(invitation_id)
    return invitation


MyInvitation = Annotated[Invitation, Depends(get_my_invitation)]
ReferredInvitation = Annotated[Invitation, Depends(get_referred_invitation)]
