"""The profile card: a profile, how far away it is, and whether I may invite them."""

from rapport_common.models.members import Member
from rapport_common.web.problems import ServiceUnavailable
from services.api.cards.schemas import CardOut, InvitationStateOut
from services.api.invitations.availability import invitation_state
from services.api.invitations.context import InvitationContext
from services.api.members.schemas import MemberProfileOut
from services.api.network import service as network


async def card(ctx: InvitationContext, me: Member, other: Member) -> CardOut:
    """The graph's answers come from the same functions as `/degree` and `/mutuals`,
    the invitation state from the one sending enforces, so the card never disagrees
    with them. Without the graph the card still answers, saying so."""
    found = await invitation_state(ctx, me, other)
    try:
        degree = (await network.degree(ctx.graph, ctx.members, me, other, ctx.now)).degree
        mutuals = await network.mutuals(ctx.graph, ctx.members, me, other, ctx.now)
    except ServiceUnavailable:
        degree, mutual_count, graph_available = None, None, False
    else:
        mutual_count, graph_available = len(mutuals), True
    return CardOut(
        profile=MemberProfileOut.model_validate(other),
        degree=degree,
        mutual_count=mutual_count,
        graph_available=graph_available,
        invitation=InvitationStateOut(
            state=found.state, invitation_id=found.invitation_id, possible_from=found.possible_from
        ),
    )
