"""The declarative base every table derives from, and the engine factory."""

from datetime import datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.orm import DeclarativeBase

from rapport_common.settings import PostgresSettings

# Named constraints make migrations reviewable and reversible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def create_engine(
    settings: PostgresSettings, database: str | None = None, *, pre_ping: bool = True
) -> AsyncEngine:
    """``pre_ping=False`` saves a round trip per checkout, for a caller that retries work
    which met a dropped connection (the pool then replaces its older connections)."""
    return create_async_engine(
        settings.url(database),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=pre_ping,
    )


def connection_lost(exc: BaseException) -> bool:
    """PostgreSQL dropped the connection or cannot be reached, as opposed to an error of
    the work's own making. Engines without pre-ping meet a restart here."""
    if isinstance(exc, DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, InterfaceError | OperationalError)
            or isinstance(exc.orig, OSError)
        )
    return isinstance(exc, OSError)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
