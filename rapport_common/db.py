"""The declarative base every table derives from, and the engine factory."""

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from asyncpg.exceptions import TargetServerAttributeNotMatched
from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

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


# SQLSTATEs that say the server, not the work, is the problem: class 08 (connection
# exceptions) and the operator interventions of a stop or a restart (57P01 admin
# shutdown, 57P02 crash shutdown, 57P03 "the database system is starting up", 57P05
# idle session timeout). 57014 (statement timeout) is left out: the work itself was slow.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P05"})


def connection_lost(exc: BaseException) -> bool:
    """PostgreSQL dropped the connection, cannot be reached, or is stopping or starting
    (so the work can simply be tried again in a moment), as opposed to an error of the
    work's own making. Engines without pre-ping meet a restart here."""
    return any(map(_says_unavailable, _database_errors(exc)))


# SQLSTATEs of a transaction PostgreSQL rolled back because another one got in its way:
# 40P01 deadlock detected, 40001 serialization failure. Nothing of it was saved, and
# the same work tried again meets the other one's outcome instead.
_CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})


def work_conflicted(exc: BaseException) -> bool:
    """PostgreSQL rolled the work back for another transaction's sake (a deadlock, a
    serialization failure): not the work's fault, and tried again it goes through or
    meets what the other one did."""
    return any(_sqlstate(error) in _CONFLICT_SQLSTATES for error in _database_errors(exc))


def _database_errors(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps. asyncpg's error reaches us raw when it happens on
    connect or on the driver, and wrapped by SQLAlchemy (``DBAPIError.orig``, then its
    cause) when it happens later, so both are looked at; the causes of other libraries'
    errors (an HTTP client's refused connection) are not, since those stores are not
    this database."""
    error: BaseException | None = exc
    for _ in range(4):
        if error is None:
            return
        yield error
        orig = getattr(error, "orig", None)
        if isinstance(orig, BaseException):
            error = orig
        elif type(error).__module__.split(".")[0] in {"sqlalchemy", "asyncpg"}:
            error = error.__cause__
        else:
            return


def _sqlstate(error: BaseException) -> str | None:
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return sqlstate if isinstance(sqlstate, str) else None


def _says_unavailable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and (
        error.connection_invalidated or isinstance(error, InterfaceError | OperationalError)
    ):
        return True
    sqlstate = _sqlstate(error)
    if sqlstate is not None:
        return sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES
    # OSError covers a refused or reset connection and a connect that timed out;
    # asyncpg's InterfaceError says the connection is closed. With several servers and
    # target_session_attrs, every server answering but none writable (a failover between
    # the primary's end and a standby's promotion) is TargetServerAttributeNotMatched.
    return isinstance(error, OSError | TargetServerAttributeNotMatched) or (
        type(error).__module__.startswith("asyncpg") and type(error).__name__ == "InterfaceError"
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class NotForTheDriver(TypeError):
    """A statement that needs SQLAlchemy's execution to give it a value."""


def _refuse_what_execution_would_compute(compiled: SQLCompiler) -> None:
    """Two kinds of value only SQLAlchemy's execution supplies, which a statement
    compiled once would otherwise run with a fixed ``None``: a column's Python-side
    default or ``onupdate`` (``updated_at`` of an UPDATE that does not set it), and
    the list of an expanding parameter given at each execution. Refused when the
    statement is first compiled, so the mistake is a test's error, not a wrong row."""
    computed = [column.key for column in (*compiled.insert_prefetch, *compiled.update_prefetch)]
    if computed:
        raise NotForTheDriver(
            f"give {', '.join(computed)} a value in the statement: their Python-side "
            "defaults are computed by SQLAlchemy's execution, which the driver skips"
        )
    expanding = [name for name, bind in compiled.binds.items() if bind.expanding and bind.required]
    if expanding:
        raise NotForTheDriver(
            f"{', '.join(expanding)}: a list given at each execution cannot be expanded "
            "once; compare with = ANY(an array parameter) instead"
        )


class DriverStatement:
    """A Core statement compiled once, to run on the asyncpg connection itself: its SQL
    (with SQLAlchemy's casts), and how a dict of bind values becomes the statement's
    arguments, each through its type's bind processing as SQLAlchemy's execution would
    do it (enums to their value, JSON to text). For the hottest statements: SQLAlchemy's
    execution around the driver's (the compiled cache's lookup, the execution context,
    the result, ORM loading) cost more than the driver's own work.

    A parameter given no value in the statement (``bindparam("name")``) is taken from
    the dict at each execution. One the statement holds a value for (a compared
    constant, the values of an ``IN`` list, which SQLAlchemy expands per execution)
    keeps that value: the lists are expanded here once, and the values processed once.
    This reads SQLAlchemy's compiled state (the processors of the expanded parameters);
    tests/api/test_driver_statement.py pins it against SQLAlchemy's own execution."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        # Each position: a name to take from the dict (and its processor), or a constant.
        self._compiled: tuple[str, Sequence[tuple[str | None, Any]]] | None = None

    def compiled(self, dialect: Dialect) -> str:
        """The SQL, compiled for ``dialect`` the first time (every connection of an
        engine shares its dialect)."""
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            _refuse_what_execution_would_compute(compiled)
            runtime = {name for name, bind in compiled.binds.items() if bind.required}
            # Any value will do for the runtime ones: only the constants are kept.
            state = compiled.construct_expanded_state(dict.fromkeys(runtime))
            # The expanded parameters' processors are the state's, the others the
            # compiled statement's.
            processors: dict[str, Any] = {**compiled._bind_processors, **state.processors}
            slots: list[tuple[str | None, Any]] = []
            for name, value in zip(
                state.positiontup or (), state.positional_parameters, strict=True
            ):
                process = processors.get(name)
                if name in runtime:
                    slots.append((name, process))
                else:
                    slots.append((None, value if process is None else process(value)))
            self._compiled = state.statement, slots
        return self._compiled[0]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``params`` (after ``compiled``)."""
        assert self._compiled is not None
        return [
            held if name is None else params[name] if held is None else held(params[name])
            for name, held in self._compiled[1]
        ]
