"""Dependencies that load the member a network question is about, and check that I may
ask it."""

from typing import Annotated

from fastapi import Depends

from rapport_common.domain import privacy
from rapport_common.domain.privacy import Consent
from rapport_common.models.members import Member
from rapport_common.web.problems import Forbidden, Problem
from services.api.connections.repository import ConnectionRepository
from services.api.deps import CurrentMember, SessionDep
from services.api.members.deps import NamedMember


class NotAboutYourself(Problem):
    status, slug, title = 422, "target-is-you", "That is you"


class ConnectionsHidden(Forbidden):
    slug, title = "connections-hidden", "This member's connections are private"


async def get_other_member(member: NamedMember, me: CurrentMember) -> Member:
    if member.id == me.id:
        raise NotAboutYourself("Ask about another member; you are always 0 hops from yourself.")
    return member


async def get_member_sharing_connections(
    member: NamedMember, me: CurrentMember, session: SessionDep
) -> Member:
    """The member, if their own choice lets me see their connections: only them, their
    connections, or everyone signed in."""
    consent = Consent.of(member)
    if me.id == member.id or privacy.shows_in_lists(consent, viewer_knows_member=False):
        return member
    if privacy.shows_in_lists(consent, viewer_knows_member=True) and await ConnectionRepository(
        session
    ).are_connected(me.id, member.id):
        return member
    visible_to = member.connections_visible_to
    audience = "their connections" if visible_to == "connections" else "no one"
    raise ConnectionsHidden(f"{member.name} shares their connections with {audience}.")


OtherMember = Annotated[Member, Depends(get_other_member)]
MemberSharingConnections = Annotated[Member, Depends(get_member_sharing_connections)]
