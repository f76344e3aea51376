from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.idempotency import IdempotencyKey


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, scope: str, key: str, request_hash: str) -> bool:
        """Insert the key; False if it exists. Blocks while another transaction holds it."""
        inserted = await self.session.execute(
            insert(IdempotencyKey)
            .values(scope=scope, key=key, request_hash=request_hash)
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(IdempotencyKey.key)
        )
        return inserted.scalar_one_or_none() is not None

    async def get(self, scope: str, key: str) -> IdempotencyKey:
        result = await self.session.execute(
            select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        )
        return result.scalar_one()

    async def store_response(
        self, scope: str, key: str, status_code: int, body: dict[str, Any]
    ) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            .values(status_code=status_code, response_body=body)
        )
