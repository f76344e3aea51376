import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.db import Base


class MemberErasure(Base):
    """A deleted account whose erasure is not finished yet (docs/privacy.md, "Deleting an
    account").

    Written in the deletion's transaction, which erases everything in PostgreSQL; what
    is left for the notifier's finisher is to see the graph catch up (``event_id``, the
    ``member.deleted`` outbox event) and to scrub anything written in the meantime by
    work that started before the deletion. The row, and with it the name it keeps for
    that scrubbing, is deleted as soon as the finisher is done."""

    __tablename__ = "member_erasures"

    # No foreign key: the member row is gone.
    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The forms of the name that late writes may carry (full name, given name).
    names: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    event_id: Mapped[uuid.UUID]
    # On the API's clock, which tests move.
    requested_at: Mapped[datetime]
