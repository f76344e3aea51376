import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, func
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base


class Connection(Base):
    """One row per connected pair, stored as (lower id, higher id) so a pair is unique.

    Each side's rating is that member's private 1-10 score of the other (NULL until
    they rate).
    """

    __tablename__ = "connections"
    __table_args__ = (
        CheckConstraint("member_low_id < member_high_id", name="ordered_pair"),
        CheckConstraint("low_rating BETWEEN 1 AND 10", name="low_rating_range"),
        CheckConstraint("high_rating BETWEEN 1 AND 10", name="high_rating_range"),
        # Covering, so a member's connections on the high side are read from the index
        # alone, as the primary key serves the low side (member search's closeness).
        Index(
            "ix_connections_member_high_id",
            "member_high_id",
            postgresql_include=["member_low_id"],
        ),
    )

    member_low_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    member_high_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    low_rating: Mapped[int | None] = mapped_column(SmallInteger)
    high_rating: Mapped[int | None] = mapped_column(SmallInteger)
    how_we_met: Mapped[str] = mapped_column(String(20))
    connected_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    last_interaction_at: Mapped[datetime | None]
    invitation_id: Mapped[uuid.UUID | None]

    @staticmethod
    def pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
        return (a, b) if a < b else (b, a)

    def rating_by(self, member_id: uuid.UUID) -> int | None:
        return self.low_rating if member_id == self.member_low_id else self.high_rating

    def set_rating_by(self, member_id: uuid.UUID, rating: int) -> None:
        if member_id == self.member_low_id:
            self.low_rating = rating
        else:
            self.high_rating = rating

    def other(self, member_id: uuid.UUID) -> uuid.UUID:
        return self.member_high_id if member_id == self.member_low_id else self.member_low_id


class Interaction(Base):
    """A logged coffee, meal, call...; the latest one refreshes the pair's strength."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_pair", "member_low_id", "member_high_id"),
        # A member's own log, newest first (the interaction history).
        Index("ix_interactions_logged_by_occurred", "logged_by", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    member_low_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    member_high_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    logged_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
