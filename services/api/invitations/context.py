from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.repositories.members import MemberRepository
from rapport_common.settings import Settings
from services.api.connections.repository import ConnectionRepository
from services.api.graph_client import GraphClient
from services.api.invitations.repository import InvitationRepository
from services.api.invitations.writes import InvitationWrites
from services.api.policies.repository import PolicyRepository


@dataclass
class InvitationContext:
    """What invitation rules need for one request: its transaction, the graph, settings
    and the current time."""

    session: AsyncSession
    graph: GraphClient
    settings: Settings
    now: datetime

    def __post_init__(self) -> None:
        self.invitations = InvitationRepository(self.session)
        self.writes = InvitationWrites(self.session)
        self.members = MemberRepository(self.session)
        self.connections = ConnectionRepository(self.session)
        self.policies = PolicyRepository(self.session)
