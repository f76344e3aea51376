import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from rapport_common.models.enums import ExportStatus
from rapport_common.models.exports import DataExport
from rapport_common.models.members import Member


class ExportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_member(self, member_id: uuid.UUID) -> None:
        """Serialise one member's export requests, so the pending check and the daily
        count are read by one request at a time."""
        await self.session.execute(
            select(Member.id).where(Member.id == member_id).with_for_update()
        )

    async def pending_for(self, member_id: uuid.UUID) -> DataExport | None:
        query = select(DataExport).where(
            DataExport.member_id == member_id, DataExport.status == ExportStatus.PENDING
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def requested_since(self, member_id: uuid.UUID, since: datetime) -> Sequence[datetime]:
        """When each of the member's exports since ``since`` was requested, oldest first."""
        query = (
            select(DataExport.requested_at)
            .where(DataExport.member_id == member_id, DataExport.requested_at > since)
            .order_by(DataExport.requested_at)
        )
        return (await self.session.execute(query)).scalars().all()

    async def add(self, member_id: uuid.UUID, now: datetime) -> DataExport:
        export = DataExport(
            id=uuid.uuid4(), member_id=member_id, status=ExportStatus.PENDING, requested_at=now
        )
        self.session.add(export)
        await self.session.flush()
        return export

    async def get(self, export_id: uuid.UUID, *, with_archive: bool = False) -> DataExport | None:
        query = select(DataExport).where(DataExport.id == export_id)
        if with_archive:
            query = query.options(undefer(DataExport.archive))
        return (await self.session.execute(query)).scalar_one_or_none()
