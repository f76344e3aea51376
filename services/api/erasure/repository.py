import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.members import Member


class AccountRepository:
    """The member row itself; what points to it goes with it by its foreign keys."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, member_id: uuid.UUID) -> Member | None:
        """The member, locked until the deletion commits: work that holds the member (the
        notifier's consumers, ``services/notifier/erasure/guard.py``) finishes first, and
        any that starts later finds them gone."""
        result = await self.session.execute(
            select(Member).where(Member.id == member_id).with_for_update()
        )
        return result.scalar_one_or_none()

    async def delete(self, member: Member) -> None:
        await self.session.execute(
            delete(Member)
            .where(Member.id == member.id)
            .execution_options(synchronize_session=False)
        )
        self.session.expunge(member)
