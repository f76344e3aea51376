import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from rapport_common.models.members import Member


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, member_id: uuid.UUID) -> Member | None:
        return await self.session.get(Member, member_id)

    async def get_by_email(self, email: str) -> Member | None:
        result = await self.session.execute(select(Member).where(Member.email == email.lower()))
        return result.scalar_one_or_none()

    async def get_many(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Member]:
        """The members by id; those this request already loaded cost no query."""
        found: dict[uuid.UUID, Member] = {}
        for member_id in ids:
            member = self.session.identity_map.get(identity_key(Member, member_id))
            if isinstance(member, Member):
                found[member_id] = member
        missing = ids - found.keys()
        if missing:
            rows = await self.session.execute(select(Member).where(Member.id.in_(missing)))
            found.update((member.id, member) for member in rows.scalars())
        return found

    async def add(self, member: Member) -> Member:
        self.session.add(member)
        await self.session.flush()
        return member
