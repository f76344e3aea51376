"""The export sweep: archives past their download window are deleted."""

from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.enums import ExportStatus
from rapport_common.models.exports import DataExport
from services.notifier.clock import now_of

# A request still pending after this long was never built (its event died): it is closed
# so that it no longer stands in for the member's next request.
STUCK_AFTER = timedelta(days=1)


async def sweep_exports(ctx: dict[str, Any]) -> int:
    """Delete the content of every archive past its window (the row stays, ``expired``,
    so the member sees what happened), and close requests stuck pending. Idempotent: a
    rerun finds nothing more to do."""
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    now = now_of(ctx)
    async with sessionmaker() as session, session.begin():
        expired = await session.execute(
            update(DataExport)
            .where(DataExport.status == ExportStatus.READY, DataExport.expires_at <= now)
            .values(status=ExportStatus.EXPIRED, archive=None)
        )
        stuck = await session.execute(
            update(DataExport)
            .where(
                DataExport.status == ExportStatus.PENDING,
                DataExport.requested_at <= now - STUCK_AFTER,
            )
            .values(status=ExportStatus.EXPIRED)
        )
    return int(getattr(expired, "rowcount", 0)) + int(getattr(stuck, "rowcount", 0))
