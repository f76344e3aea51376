import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from rapport_common.clock import system_clock
from rapport_common.db import Base


class RefreshToken(Base):
    """A long-lived sign-in, rotated on every use. Tokens rotated from one sign-in share
    a family, so reuse of a rotated token (a stolen copy) revokes the whole family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID]
    # Only a SHA-256 of the token is kept: a database leak yields no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=system_clock)
    # What signed in, from its User-Agent (one line, bounded), carried to every token of
    # the family: the sessions list shows it.
    device: Mapped[str | None] = mapped_column(String(200))


class SignInFailure(Base):
    """A failed sign-in, counted by the throttle against the account tried and against
    the client address (one row each). Rows older than the throttling window are swept
    as new attempts come in."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_key_failed_at", "key_hash", "failed_at"),
        Index("ix_sign_in_failures_failed_at", "failed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # HMAC-SHA256 of "account:<email>" or "address:<client>", keyed by a server secret:
    # the table does not say which emails were tried.
    key_hash: Mapped[str] = mapped_column(String(64))
    # On the API's clock, which tests move.
    failed_at: Mapped[datetime]
