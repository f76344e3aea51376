import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.connections.models import Connection


class ConnectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, a: uuid.UUID, b: uuid.UUID, for_update: bool = False) -> Connection | None:
        low, high = Connection.pair(a, b)
        query = select(Connection).where(
            Connection.member_low_id == low, Connection.member_high_id == high
        )
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def are_connected(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        return await self.get(a, b) is not None

    async def add(self, connection: Connection) -> Connection:
        self.session.add(connection)
        await self.session.flush()
        return connection

    async def delete(self, connection: Connection) -> None:
        await self.session.delete(connection)
        await self.session.flush()
