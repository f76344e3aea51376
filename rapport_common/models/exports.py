import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from rapport_common.db import Base
from rapport_common.models.enums import ExportStatus, checked


class DataExport(Base):
    """A member's copy of everything Rapport holds about them (docs/privacy.md, "Export").

    The API records the request; the notifier builds the archive and stores it here, so
    any API process can serve it and it survives restarts. Past ``expires_at`` a sweep
    deletes the content and keeps the row (status ``expired``), which still counts in the
    member's daily limit."""

    __tablename__ = "data_exports"
    __table_args__ = (
        # One export being built per member at a time: a second request gets the first.
        Index(
            "uq_data_exports_pending",
            "member_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_data_exports_member_requested", "member_id", "requested_at"),
        Index(
            "ix_data_exports_ready_expires", "expires_at", postgresql_where=text("status = 'ready'")
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    status: Mapped[ExportStatus] = mapped_column(
        checked(ExportStatus, "status"), default=ExportStatus.PENDING
    )
    # On the API's clock, which tests move.
    requested_at: Mapped[datetime]
    ready_at: Mapped[datetime | None]
    # The end of the download window; set when the archive is ready.
    expires_at: Mapped[datetime | None]
    # The archive: UTF-8 JSON, gzip-compressed. Deferred: listing exports never reads it.
    archive: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    # The uncompressed JSON's size in bytes, as the download serves it.
    size_bytes: Mapped[int | None]
