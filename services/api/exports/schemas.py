import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from rapport_common.models.enums import ExportStatus


class ExportOut(BaseModel):
    export_id: uuid.UUID
    status: ExportStatus = Field(
        description="`pending` while the worker builds it, `ready` to download, `expired` "
        "once the download window is over (the archive is deleted)"
    )
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None = Field(description="The end of the download window")
    size_bytes: int | None = Field(description="The size of the JSON archive")
    download_url: str | None = Field(
        description="While ready: a signed link that works without signing in until "
        "`expires_at` (the one the email carries)"
    )
