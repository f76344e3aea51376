"""An invitation's change and its outbox events, written in one statement.

The hot paths (send, accept, decline) write a row or two and one or two events. Through
the ORM's unit of work that was a statement per table and a good part of an API
worker's time; here each is one statement, the change's writes as CTEs of the events'
INSERT (PostgreSQL runs all of them or none), built once per shape with bind
parameters. Afterwards the session holds the invitation as if it had been loaded with
the new values, so what a request changes later is flushed as an update as before.

Pending ORM changes are flushed first: the events keep the order they were recorded
in (their ``sequence``), and the rows they refer to are there.
"""

from collections.abc import Mapping, Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import (
    Column,
    Insert,
    Select,
    Table,
    bindparam,
    exists,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import TypeEngine

from rapport_common.db import DriverStatement
from rapport_common.models.connections import Connection
from rapport_common.models.invitations import Invitation
from rapport_common.outbox import OutboxEvent

_INVITATIONS = cast(Table, Invitation.__table__)
_CONNECTIONS = cast(Table, Connection.__table__)
_EVENTS = cast(Table, OutboxEvent.__table__)
# ``outbox.event_values``'s keys, then the columns the ORM fills from their defaults
# (``created_at``, ``attempts``...), given here as ``record_event``'s insert gives them.
_EVENT_GIVEN = ("id", "type", "version", "payload", "request_id")
_EVENT_DEFAULTS = tuple(
    (column.name, column.default)
    for column in _EVENTS.c
    if column.default is not None and column.name not in _EVENT_GIVEN
)
_EVENT_COLUMNS = (*_EVENT_GIVEN, *(name for name, _ in _EVENT_DEFAULTS))
_STATEMENTS: dict[tuple[str, tuple[str, ...], int, bool], Insert] = {}
# The row version PostgreSQL gives every row: a new one at every update of it.
ROW_VERSION: ColumnClause[int] = literal_column("invitations.xmin")


def _events_insert(count: int, only_if: Any = None) -> Insert:
    """INSERT ... SELECT of one row of bind parameters per event, in order (a
    multi-row VALUES would do, but SQLAlchemy does not cache its compiled form).
    ``only_if``: a condition each row needs (the change was made)."""
    rows: list[Select[Any]] = []
    for i in range(count):
        row = select(
            *(
                bindparam(f"event{i}_{name}", type_=_EVENTS.c[name].type).label(name)
                for name in _EVENT_COLUMNS
            )
        )
        rows.append(row if only_if is None else row.where(only_if))
    return insert(_EVENTS).from_select(_EVENT_COLUMNS, rows[0] if count == 1 else union_all(*rows))


def _row_params(table: Table, prefix: str, entity: object) -> dict[str, Any]:
    """Every column of ``entity``'s row: what it was given, else the column's default.
    A column whose default is computed must be given."""
    params: dict[str, Any] = {}
    state = entity.__dict__
    for attribute in sa_inspect(type(entity)).column_attrs:
        if attribute.key not in state:
            default = attribute.columns[0].default
            if default is not None and not default.is_scalar:
                raise ValueError(f"Set {table.name}.{attribute.key} first.")
            setattr(entity, attribute.key, None if default is None else default.arg)
        params[f"{prefix}_{attribute.columns[0].name}"] = state[attribute.key]
    return params


def _row_insert(table: Table, prefix: str, only_if: Any = None) -> Insert:
    values = {
        column.name: bindparam(f"{prefix}_{column.name}", type_=_bind_type(column))
        for column in table.c
    }
    if only_if is None:
        return insert(table).values(values)
    row = select(*(value.label(name) for name, value in values.items())).where(only_if)
    return insert(table).from_select(list(values), row)


def _bind_type(column: Column[Any]) -> TypeEngine[Any]:
    """The column's type; for JSONB one that writes None as SQL NULL, as the ORM does
    for an attribute left unset, not as JSON ``null``."""
    return JSONB(none_as_null=True) if isinstance(column.type, JSONB) else column.type


def _statement(kind: str, changed: tuple[str, ...], events: int, versioned: bool = False) -> Insert:
    """Built once per shape: ``insert`` (a new invitation), ``change`` (an update of
    ``changed``), ``connect`` (an update and a new connection). ``versioned``: the
    update only if the row is still the version read (bind parameter ``version``), and
    the rest only if it was made; the events' ids are returned, none if it was not."""
    key = (kind, changed, events, versioned)
    statement = _STATEMENTS.get(key)
    if statement is None:
        if kind == "insert":
            statement = _events_insert(events)
            statement = statement.add_cte(_row_insert(_INVITATIONS, "invitation").cte("created"))
        else:
            values = {
                name: bindparam(f"set_{name}", type_=_INVITATIONS.c[name].type) for name in changed
            }
            change = update(_INVITATIONS).where(_INVITATIONS.c.id == bindparam("invitation_id"))
            if versioned:
                change = change.where(bindparam("version") == ROW_VERSION).returning(
                    _INVITATIONS.c.id
                )
            made = change.values(values).cte("changed")
            only_if = exists(select(made.c.id)) if versioned else None
            statement = _events_insert(events, only_if).add_cte(made)
            if kind == "connect":
                connect = _row_insert(_CONNECTIONS, "connection", only_if)
                statement = statement.add_cte(connect.cte("connected"))
            if versioned:
                statement = statement.returning(_EVENTS.c.id)
        _STATEMENTS[key] = statement
    return statement


_ON_THE_DRIVER: dict[tuple[str, tuple[str, ...], int], DriverStatement] = {}


def _change_params(
    invitation: Invitation,
    changes: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    connection: Connection | None,
) -> dict[str, Any]:
    params = {f"set_{name}": value for name, value in changes.items()} | _event_params(events)
    params["invitation_id"] = invitation.id
    if connection is not None:
        params |= _row_params(_CONNECTIONS, "connection", connection)
    return params


async def change_if_unchanged(
    driver: asyncpg.Connection,
    dialect: Dialect,
    invitation: Invitation,
    version: int,
    changes: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    connection: Connection | None = None,
) -> bool:
    """``InvitationWrites.change`` of an invitation read without a lock at row
    ``version``, as one statement on the driver's connection (``on_the_driver``): made
    only if the row is still that version, and False (nothing written) if not. The
    invitation is a plain object here, not one of a session: its attributes are set to
    the changes when they are made."""
    kind = "change" if connection is None else "connect"
    key = (kind, tuple(changes), len(events))
    statement = _ON_THE_DRIVER.get(key)
    if statement is None:
        statement = _ON_THE_DRIVER[key] = DriverStatement(
            _statement(kind, tuple(changes), len(events), versioned=True)
        )
    sql = statement.compiled(dialect)
    params = _change_params(invitation, changes, events, connection)
    params["version"] = version
    if not await driver.fetch(sql, *statement.arguments(params)):
        return False
    for name, value in changes.items():
        setattr(invitation, name, value)
    return True


def event_defaults() -> dict[str, Any]:
    """The outbox columns an event leaves to defaults (``created_at``, the counters),
    each evaluated as the ORM evaluates it for a new OutboxEvent."""
    return {
        name: default.arg if default.is_scalar else default.arg(None)  # type: ignore[attr-defined]
        for name, default in _EVENT_DEFAULTS
    }


def _event_params(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, event in enumerate(events):
        row = event_defaults() | dict(event)
        params.update((f"event{i}_{key}", value) for key, value in row.items())
    return params


def _keep_as_loaded(session: AsyncSession, entity: object) -> None:
    make_transient_to_detached(entity)
    session.add(entity)


class InvitationWrites:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, invitation: Invitation, events: Sequence[Mapping[str, Any]]) -> None:
        """Store a new invitation (unset columns take their default) with its events.
        Raises ``IntegrityError`` as the ORM's INSERT would (the pair's open index)."""
        await self.session.flush()
        params = _row_params(_INVITATIONS, "invitation", invitation) | _event_params(events)
        await self.session.execute(_statement("insert", (), len(events)), params)
        _keep_as_loaded(self.session, invitation)

    async def change(
        self,
        invitation: Invitation,
        changes: Mapping[str, Any],
        events: Sequence[Mapping[str, Any]],
        connection: Connection | None = None,
    ) -> None:
        """Set ``changes`` on a loaded invitation, insert ``connection`` if given, and
        record the events. The invitation's row must be locked by this transaction."""
        await self.session.flush()
        params = _change_params(invitation, changes, events, connection)
        kind = "change" if connection is None else "connect"
        await self.session.execute(_statement(kind, tuple(changes), len(events)), params)
        for name, value in changes.items():
            set_committed_value(invitation, name, value)
        if connection is not None:
            _keep_as_loaded(self.session, connection)
