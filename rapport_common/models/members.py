import uuid
from datetime import datetime

from sqlalchemy import Boolean, String, func
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base
from rapport_common.models.enums import (
    ConnectionVisibility,
    NetworkingStance,
    Reachability,
    checked,
)


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
    networking_stance: Mapped[NetworkingStance] = mapped_column(
        checked(NetworkingStance, "networking_stance"), default=NetworkingStance.CLOSED
    )
    connections_visible_to: Mapped[ConnectionVisibility] = mapped_column(
        checked(ConnectionVisibility, "connections_visible_to"),
        default=ConnectionVisibility.CONNECTIONS,
    )
    allows_introductions: Mapped[bool] = mapped_column(Boolean, default=True)
    reachable_by: Mapped[Reachability] = mapped_column(
        checked(Reachability, "reachable_by"), default=Reachability.EVERYONE
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=system_clock, onupdate=system_clock
    )

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name
