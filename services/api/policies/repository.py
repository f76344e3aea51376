import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.policies import LinkingPolicy


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, member_id: uuid.UUID) -> LinkingPolicy | None:
        result = await self.session.execute(
            select(LinkingPolicy).where(LinkingPolicy.member_id == member_id)
        )
        return result.scalar_one_or_none()

    async def create_first(
        self, member_id: uuid.UUID, document: dict[str, Any], preset: str | None
    ) -> bool:
        """Store version 1; False when a concurrent writer created it first."""
        result = await self.session.execute(
            insert(LinkingPolicy)
            .values(member_id=member_id, document=document, preset=preset, version=1)
            .on_conflict_do_nothing(index_elements=["member_id"])
            .returning(LinkingPolicy.member_id)
        )
        return result.scalar_one_or_none() is not None

    async def replace_if_version(
        self,
        member_id: uuid.UUID,
        expected_version: int,
        document: dict[str, Any],
        preset: str | None,
    ) -> bool:
        """Compare-and-set on the version; False when someone changed it meanwhile."""
        result = await self.session.execute(
            update(LinkingPolicy)
            .where(
                LinkingPolicy.member_id == member_id,
                LinkingPolicy.version == expected_version,
            )
            .values(document=document, preset=preset, version=LinkingPolicy.version + 1)
            .returning(LinkingPolicy.version)
        )
        return result.scalar_one_or_none() is not None
