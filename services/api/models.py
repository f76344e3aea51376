"""Every table of the system of record, so Alembic sees the whole schema."""

from rapport_common.db import Base
from rapport_common.outbox import OutboxEvent
from services.api.members.models import Member

metadata = Base.metadata

__all__ = ["Member", "OutboxEvent", "metadata"]
