import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from rapport_common.models.blocks import Block


def unblocked_with(
    viewer_id: uuid.UUID, column: InstrumentedAttribute[uuid.UUID] | ColumnElement[uuid.UUID]
) -> ColumnElement[bool]:
    """True where the member in ``column`` and the viewer have no block either way: the
    one clause every list and search uses, so a block hides both sides alike."""
    return ~exists().where(
        or_(
            and_(Block.blocker_id == viewer_id, Block.blocked_id == column),
            and_(Block.blocker_id == column, Block.blocked_id == viewer_id),
        )
    )


class BlockRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def between(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        """Whether either of the two blocked the other."""
        found = await self.session.scalar(
            select(
                exists().where(
                    or_(
                        and_(Block.blocker_id == a, Block.blocked_id == b),
                        and_(Block.blocker_id == b, Block.blocked_id == a),
                    )
                )
            )
        )
        return bool(found)

    async def blocks(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(exists().where(Block.blocker_id == blocker, Block.blocked_id == blocked))
        )
        return bool(found)

    async def related_to(self, member: uuid.UUID) -> set[uuid.UUID]:
        """Everyone ``member`` blocked or was blocked by."""
        rows = await self.session.execute(
            select(Block.blocked_id)
            .where(Block.blocker_id == member)
            .union(select(Block.blocker_id).where(Block.blocked_id == member))
        )
        return set(rows.scalars())

    async def add(self, blocker: uuid.UUID, blocked: uuid.UUID, now: datetime) -> bool:
        """False if the block already existed."""
        result = await self.session.execute(
            insert(Block)
            .values(blocker_id=blocker, blocked_id=blocked, created_at=now)
            .on_conflict_do_nothing()
            .returning(Block.blocker_id)
        )
        return result.first() is not None

    async def remove(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
        """False if there was no such block."""
        result = await self.session.execute(
            delete(Block)
            .where(Block.blocker_id == blocker, Block.blocked_id == blocked)
            .returning(Block.blocker_id)
        )
        return result.first() is not None
