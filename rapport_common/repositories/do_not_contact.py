from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.email_invitations import DoNotContact


class DoNotContactRepository:
    """The addresses (by hash) Rapport must not email: the API adds, every sender reads."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def contains(self, address_hash: str) -> bool:
        query = select(exists().where(DoNotContact.address_hash == address_hash))
        return bool(await self.session.scalar(query))

    async def add(self, address_hash: str, now: datetime) -> None:
        """Idempotent: a second stop request for the same address changes nothing."""
        await self.session.execute(
            insert(DoNotContact)
            .values(address_hash=address_hash, created_at=now)
            .on_conflict_do_nothing(index_elements=["address_hash"])
        )
