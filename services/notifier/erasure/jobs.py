"""The erasure finisher: completes what a deletion could not do in its own transaction
(docs/privacy.md, "Deleting an account")."""

import logging
from datetime import timedelta
from typing import Any

from arq.cron import cron
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.domain.erasure import anonymise_notifications
from rapport_common.models.erasures import MemberErasure
from rapport_common.repositories.erasure import ErasureRepository
from rapport_common.settings import Settings
from services.notifier.clock import now_of
from services.notifier.dead_letters import retry_dead

logger = logging.getLogger(__name__)

BATCH = 50
# Past the longest a job may run: after this, nothing that started before the deletion
# (a sweep that read the member, a job holding an event about them) can still write.
SETTLE_MARGIN = timedelta(minutes=1)


async def finish_erasures(ctx: dict[str, Any]) -> int:
    """Cron: for each deletion not finished, scrub what work that started before it
    wrote since (a reconnect nudge naming the member), send a dead-lettered
    ``member.deleted`` back to the relay (the graph was down longer than the retries
    last), remove the event once the graph has applied it, and once things have settled
    delete the erasure's row, and with it the last copy of the member's name. Returns how
    many it finished.

    Idempotent: each step finds nothing more to do the second time; an erasure another
    finisher holds is skipped."""
    settings: Settings = ctx["settings"]
    settle = timedelta(seconds=settings.worker.job_timeout_seconds) + SETTLE_MARGIN
    now = now_of(ctx)
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    finished = 0
    async with sessionmaker() as session:
        erasures = ErasureRepository(session)
        for erasure in await erasures.unfinished(BATCH):
            if (
                await _finish_one(session, erasures, erasure)
                and now - erasure.requested_at >= settle
            ):
                await erasures.finish(erasure)
                finished += 1
        await session.commit()
    if finished:
        logger.info("erasures finished", extra={"count": finished})
    return finished


async def _finish_one(
    session: AsyncSession, erasures: ErasureRepository, erasure: MemberErasure
) -> bool:
    """One pass over one erasure; True once the graph has applied ``member.deleted``."""
    member_id = erasure.member_id
    late = await erasures.notifications_about(member_id)
    await anonymise_notifications(erasures, late, member_id, erasure.names)
    await erasures.delete_webhook_messages_naming(member_id)
    event = await erasures.event(erasure.event_id)
    others = [e.id for e in await erasures.events_naming(member_id) if e.id != erasure.event_id]
    await erasures.delete_events(others)
    if event is None:
        return True
    if event.dead_at is not None:
        logger.warning(
            "member.deleted was dead-lettered; sending it again",
            extra={"event_id": str(event.id)},
        )
        await retry_dead(session, event.id)
        return False
    if event.completed_at is None:
        return False  # the graph has not caught up yet: its retries are still running
    await erasures.delete_events([event.id])
    return True


FINISH_CRON = cron(finish_erasures, second=50, unique=True)
