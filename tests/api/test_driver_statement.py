"""``rapport_common.db.DriverStatement`` reads SQLAlchemy's compiled state (its bind
processors, the expanded ``IN`` lists): what it sends the driver must give what
SQLAlchemy's own execution of the statement gives."""

from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport_common.db import DriverStatement, NotForTheDriver
from rapport_common.models.enums import InvitationStatus
from rapport_common.models.invitations import Invitation
from rapport_common.models.members import Member

_STATUS = cast(Table, Invitation.__table__).c.status.type
_STATEMENT = select(
    bindparam("document", type_=JSONB).label("document"),  # processed: JSON to text
    bindparam("status", type_=_STATUS).label("status"),  # processed: the enum's value
    # An IN list the statement holds: expanded once, its values processed once.
    bindparam("status", type_=_STATUS)
    .in_([InvitationStatus.PENDING, InvitationStatus.DECLINED])
    .label("listed"),
    # A compared constant the statement holds.
    (bindparam("status", type_=_STATUS) == InvitationStatus.ACCEPTED).label("accepted"),
)


@pytest.mark.parametrize("status", list(InvitationStatus))
async def test_the_driver_gets_what_sqlalchemy_would_send(
    engine: AsyncEngine, status: InvitationStatus
) -> None:
    params: dict[str, Any] = {"document": {"rules": [1, "two"], "none": None}, "status": status}
    statement = DriverStatement(_STATEMENT)
    async with engine.connect() as connection:
        expected = (await connection.execute(_STATEMENT, params)).one()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        sql = statement.compiled(connection.dialect)
        assert "POSTCOMPILE" not in sql
        row = await driver.fetchrow(sql, *statement.arguments(params))
    assert row is not None
    assert row["document"] == expected.document == params["document"]
    assert row["status"] == expected.status.value == status.value
    assert row["listed"] is expected.listed is (status in {"pending", "declined"})
    assert row["accepted"] is expected.accepted is (status == "accepted")


_MEMBERS = cast(Table, Member.__table__)


@pytest.mark.parametrize(
    "statement",
    [
        # members.updated_at has a Python-side onupdate: the driver would write None.
        update(_MEMBERS).where(_MEMBERS.c.id == bindparam("member")).values(name="Ada"),
        # A list given at each execution: compiled once, it would match nothing.
        select(_MEMBERS.c.id).where(_MEMBERS.c.id.in_(bindparam("ids", expanding=True))),
    ],
    ids=["python-side onupdate", "expanding runtime list"],
)
async def test_a_value_only_sqlalchemy_would_compute_is_refused_at_compile(
    engine: AsyncEngine, statement: Any
) -> None:
    with pytest.raises(NotForTheDriver):
        DriverStatement(statement).compiled(engine.dialect)
