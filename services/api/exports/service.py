"""Asking for a copy of my data, and reading it back (docs/privacy.md, "Export")."""

import gzip
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rapport_common.domain import export_links
from rapport_common.events import ExportRequestedV1
from rapport_common.models.enums import ExportStatus
from rapport_common.models.exports import DataExport
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.settings import Settings
from rapport_common.web.problems import Conflict, Problem
from services.api.exports.repository import ExportRepository
from services.api.exports.schemas import ExportOut

WINDOW = timedelta(days=1)


class ExportLimitReached(Problem):
    status, slug, title = 429, "export-limit", "Export limit reached"


class ExportNotReady(Conflict):
    slug, title = "export-not-ready", "The export is still being built"


class ExportExpired(Problem):
    status, slug, title = 410, "export-expired", "The export has expired"


@dataclass(frozen=True)
class Requested:
    export: DataExport
    # False when an export was already being built: that one is returned instead.
    created: bool


async def request_export(
    repository: ExportRepository, me: Member, settings: Settings, now: datetime
) -> Requested:
    """Record a new export and its ``export.requested`` event, unless one is being built
    already (that one is the answer) or the member asked ``daily_limit`` times in the last
    24 hours (429 until the oldest of those leaves the window)."""
    await repository.lock_member(me.id)
    pending = await repository.pending_for(me.id)
    if pending is not None:
        return Requested(pending, created=False)
    recent = await repository.requested_since(me.id, now - WINDOW)
    limit = settings.exports.daily_limit
    if len(recent) >= limit:
        retry = max(1, int((recent[-limit] + WINDOW - now).total_seconds()) + 1)
        raise ExportLimitReached(
            f"You can ask for {limit} exports in 24 hours; the next is possible in "
            f"{retry // 3600} h {retry % 3600 // 60} min.",
            headers={"Retry-After": str(retry)},
        )
    export = await repository.add(me.id, now)
    await record_event(
        repository.session,
        "export.requested",
        ExportRequestedV1(export_id=export.id, member_id=me.id),
    )
    return Requested(export, created=True)


def current_status(export: DataExport, now: datetime) -> ExportStatus:
    """Expired from the end of its window on, even before the sweep deletes it."""
    if export.status == ExportStatus.READY and export.expires_at and export.expires_at <= now:
        return ExportStatus.EXPIRED
    return export.status


def view(export: DataExport, settings: Settings, now: datetime) -> ExportOut:
    status = current_status(export, now)
    ready = status == ExportStatus.READY and export.expires_at is not None
    return ExportOut(
        export_id=export.id,
        status=status,
        requested_at=export.requested_at,
        ready_at=export.ready_at,
        expires_at=export.expires_at,
        size_bytes=export.size_bytes,
        download_url=(
            export_links.download_url(settings, export.id, export.expires_at)
            if ready and export.expires_at is not None
            else None
        ),
    )


def archive_of(export: DataExport, now: datetime) -> bytes:
    """The JSON archive, or 409 while it is built and 410 after its window."""
    status = current_status(export, now)
    if status == ExportStatus.PENDING:
        raise ExportNotReady(
            "The export is still being built; you will get an email when it is ready."
        )
    if status != ExportStatus.READY or export.archive is None:
        raise ExportExpired(
            "This export's download window is over and its archive was deleted; ask for a "
            "new export."
        )
    return gzip.decompress(export.archive)


def file_name(export: DataExport) -> str:
    day: date = (export.ready_at or export.requested_at).date()
    return f"rapport-export-{day.isoformat()}.json"
