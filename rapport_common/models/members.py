import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Computed,
    Index,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base
from rapport_common.models.enums import (
    ConnectionVisibility,
    FindableBy,
    NetworkingStance,
    Reachability,
    checked,
)

# What search matches (docs/search.md): the name first, then company and market area,
# then headline and title. The 'simple' configuration, because names are in no one
# language and must not be stemmed; never the email.
SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, "
    "coalesce(company, '') || ' ' || coalesce(market_area, '')), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, "
    "coalesce(headline, '') || ' ' || coalesce(title, '')), 'C')"
)


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(
            "decline_cooldown_days BETWEEN 1 AND 3650", name="decline_cooldown_days_range"
        ),
        Index("ix_members_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            "ix_members_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index(
            "ix_members_company_trgm",
            "company",
            postgresql_using="gin",
            postgresql_ops={"company": "gin_trgm_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Stored lower-cased, so uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    # What messages call the member ("Hi Ada"); NULL: the first word of ``name``.
    given_name: Mapped[str | None] = mapped_column(String(60))
    # NULL until the member follows the link in the verification email; until then
    # they may read but not reach out (invitations, introductions, webhooks).
    email_verified_at: Mapped[datetime | None]
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
    company: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(String(120))
    bio: Mapped[str | None] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(ARRAY(String(300)), default=list, server_default="{}")
    locale: Mapped[str | None] = mapped_column(String(35))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    findable_by: Mapped[FindableBy] = mapped_column(
        checked(FindableBy, "findable_by"), default=FindableBy.EVERYONE
    )
    findable_by_email: Mapped[bool] = mapped_column(Boolean, default=True)
    # NULL: never invited again by a sender once declined.
    decline_cooldown_days: Mapped[int | None] = mapped_column(
        SmallInteger, default=90, server_default="90"
    )
    recommendations_visible_to: Mapped[ConnectionVisibility] = mapped_column(
        checked(ConnectionVisibility, "recommendations_visible_to"),
        default=ConnectionVisibility.EVERYONE,
    )
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR, persisted=True), deferred=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), default=system_clock, onupdate=system_clock
    )

    @property
    def first_name(self) -> str:
        if self.given_name:
            return self.given_name
        return self.name.split()[0] if self.name.split() else self.name
