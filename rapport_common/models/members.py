import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, String, func
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.db import Base, utcnow

NETWORKING_STANCES = ("closed", "semi_open", "open")
CONNECTION_VISIBILITIES = ("only_me", "connections", "everyone")


class Member(Base):
    __tablename__ = "members"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Stored lower-cased, so uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    headline: Mapped[str | None] = mapped_column(String(200))
    market_area: Mapped[str | None] = mapped_column(String(80))
    is_recruiter: Mapped[bool] = mapped_column(Boolean, default=False)
    networking_stance: Mapped[str] = mapped_column(
        Enum(*NETWORKING_STANCES, name="networking_stance"), default="closed"
    )
    connections_visible_to: Mapped[str] = mapped_column(
        Enum(*CONNECTION_VISIBILITIES, name="connection_visibility"), default="connections"
    )
    allows_introductions: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=utcnow, onupdate=utcnow
    )

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name
