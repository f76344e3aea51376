import uuid
from datetime import date

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.db import Base


class SearchUsage(Base):
    """How many searches a member ran on one UTC day, for the daily limit against
    scraping (docs/search.md)."""

    __tablename__ = "search_usage"

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    searches: Mapped[int] = mapped_column(Integer)
