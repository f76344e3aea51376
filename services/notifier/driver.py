"""An event job's hottest statements, run on the asyncpg connection under its session.

SQLAlchemy's execution around a statement (the compiled cache's lookup, the execution
context, the result) and the ORM's loading of what it returns cost the worker more than
the statement costs PostgreSQL. So the reads and writes every decline makes (the erasure
guard's lock, the invitation, the preferences, the notification, the webhook endpoints,
the event's completion) are Core statements compiled once (``DriverStatement``), run on
the session's own connection inside the session's transaction: what they write is
committed or rolled back with the session's, as any statement of the session. The rows
come as the driver gives them, and the objects made of them (``plain``) belong to no
session: nothing the ORM would flush.

A write made on behalf of a consumer may also wait (``later``) for the next statement
of the job on the driver: the event's completion takes the last email's record with it
(``take_later``), and a commit between consumers writes it first (``write_later``).
"""

from collections.abc import Mapping
from typing import Any, TypeVar

from asyncpg import Connection, Record
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import class_mapper

from rapport_common.db import DriverStatement, connection_lost

Plain = TypeVar("Plain")


async def _in_transaction(connection: AsyncConnection) -> tuple[Connection, Dialect]:
    """The session's connection as the driver's, with its transaction begun as the
    session's first statement would begin it (SQLAlchemy's asyncpg adapter begins one
    lazily, at its first statement, and commits only one it began)."""
    raw = await connection.get_raw_connection()
    adapted: Any = raw.dbapi_connection
    if adapted._transaction is None and adapted.isolation_level != "autocommit":
        await adapted._start_transaction()
    return raw.driver_connection, connection.dialect


# In ``session.info``: (the transaction, its driver connection, the dialect, the
# SQLAlchemy connection), so that the statements of one transaction find the connection
# without a trip through the session's greenlet each.
_HELD = "rapport.driver_connection"


async def _connection(session: AsyncSession) -> tuple[Connection, Dialect, AsyncConnection]:
    held = session.info.get(_HELD)
    if held is not None and held[0] is session.sync_session.get_transaction():
        return held[1], held[2], held[3]
    connection = await session.connection()
    try:
        driver, dialect = await _in_transaction(connection)
    except Exception as exc:
        await _invalidate_if_lost(connection, exc)
        raise
    transaction = session.sync_session.get_transaction()
    session.info[_HELD] = (transaction, driver, dialect, connection)
    return driver, dialect, connection


async def _invalidate_if_lost(connection: AsyncConnection, exc: Exception) -> None:
    """A lost connection is invalidated as SQLAlchemy's own execution would, so the pool
    replaces it and the job's retry starts afresh."""
    if connection_lost(exc):
        await connection.invalidate(exc)


async def fetch(
    session: AsyncSession, statement: DriverStatement, params: Mapping[str, Any]
) -> list[Record]:
    """The rows of ``statement`` with ``params``, in the session's transaction."""
    driver, dialect, connection = await _connection(session)
    try:
        rows: list[Record] = await driver.fetch(
            statement.compiled(dialect), *statement.arguments(params)
        )
    except Exception as exc:
        session.info.pop(_HELD, None)
        await _invalidate_if_lost(connection, exc)
        raise
    return rows


def plain(cls: type[Plain], values: Mapping[str, Any]) -> Plain:
    """An object of mapped ``cls`` holding ``values`` as if read, in no session, as the
    ORM builds the objects it loads (its instrumented constructor costs more than the
    statement that read them)."""
    instance: Plain = class_mapper(cls).class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


# In ``session.info``: (the transaction, the writes waiting in it), each a statement with
# its parameters, in order.
LATER = "rapport.driver_later"


def later(session: AsyncSession, statement: DriverStatement, params: dict[str, Any]) -> None:
    """Write this with the job's next statement on the driver, in this transaction."""
    current = session.sync_session.get_transaction()
    kept = session.info.get(LATER)
    if kept is None or kept[0] is not current:
        kept = session.info[LATER] = (current, [])
    writes: list[tuple[DriverStatement, dict[str, Any]]] = kept[1]
    writes.append((statement, params))


def take_later(session: AsyncSession) -> list[tuple[DriverStatement, dict[str, Any]]]:
    """The writes waiting in the session's current transaction, now the caller's to
    make (those of a transaction that ended are gone with it)."""
    kept = session.info.pop(LATER, None)
    if kept is None or kept[0] is not session.sync_session.get_transaction():
        return []
    writes: list[tuple[DriverStatement, dict[str, Any]]] = kept[1]
    return writes


async def write_later(session: AsyncSession) -> None:
    """Make the waiting writes now (before a commit that is not the job's last)."""
    for statement, params in take_later(session):
        await fetch(session, statement, params)
