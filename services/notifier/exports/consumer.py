"""Builds a requested export and tells the member it is ready."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.domain import export_links
from rapport_common.events import EventEnvelope, ExportRequestedV1, parse_payload
from rapport_common.models.enums import ExportStatus
from rapport_common.models.exports import DataExport
from rapport_common.models.members import Member
from rapport_common.settings import Settings
from services.notifier.clock import clock_of
from services.notifier.exports import archive
from services.notifier.notifications.store import Draft, deliver, store


def concerns(envelope: EventEnvelope) -> bool:
    """Whether ``build_export`` has anything to do with the event."""
    return envelope.type == "export.requested"


async def build_export(ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession) -> None:
    """Build the archive of an ``export.requested`` event, store it, then notify the
    member (in-app and by email) with the signed download link.

    Idempotent: the export row is locked while it is built and its archive committed
    with the status ``ready``, so a rerun finds it built and only makes sure of the
    notification, which its dedupe key stores once and ``deliver`` emails once."""
    if not concerns(envelope):
        return
    event = parse_payload(envelope)
    assert isinstance(event, ExportRequestedV1)
    settings: Settings = ctx["settings"]
    clock = clock_of(ctx)
    export = (
        await session.execute(
            select(DataExport).where(DataExport.id == event.export_id).with_for_update()
        )
    ).scalar_one_or_none()
    member = await session.get(Member, event.member_id)
    if export is None or member is None:
        return  # the member (and with them their exports) is gone
    if export.status == ExportStatus.PENDING:
        now = clock()
        content, size = archive.encode(await archive.build(session, member, settings, now))
        export.archive = content
        export.size_bytes = size
        export.status = ExportStatus.READY
        export.ready_at = now
        export.expires_at = now + timedelta(days=settings.exports.link_days)
        await session.commit()
    if export.status != ExportStatus.READY or export.expires_at is None:
        return  # expired before it could be announced: nothing left to download
    if export.expires_at <= clock():
        return
    draft = Draft(
        member_id=member.id,
        kind="export_ready",
        dedupe_key=f"export:{export.id}:export_ready",
        # The end of the window is written in the member's time zone by ``store``.
        facts={"expires_at": export.expires_at},
        data={"export_id": str(export.id)},
        # Signed, and works without signing in until it expires (docs/privacy.md).
        action_url=export_links.download_url(settings, export.id, export.expires_at),
    )
    ids = await store(session, settings, [draft], clock())
    await session.commit()
    await deliver(session, settings, ctx["mailer"], ids, clock)
