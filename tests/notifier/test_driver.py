"""The statements an event job runs on the driver (``services/notifier/driver.py``) are
the session's own: begun with its transaction, committed or rolled back with it; and a
write left for later (``driver.later``) goes with the job's next statement, or with the
transaction's rollback.

They rely on SQLAlchemy's asyncpg adapter beginning its transaction lazily (its private
``_transaction`` and ``_start_transaction``): an upgrade that changes that fails here."""

from typing import cast

import httpx
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.db import DriverStatement
from rapport_common.models.members import Member
from services.notifier import driver
from services.notifier.erasure.guard import all_present
from tests.factories import register

_MEMBERS = cast(Table, Member.__table__)
_HEADLINE = DriverStatement(
    update(_MEMBERS)
    .where(_MEMBERS.c.id == bindparam("member_id"))
    .values(headline=bindparam("new_headline"), updated_at=func.now())
)


async def _headline(db: async_sessionmaker[AsyncSession], member_id: object) -> str | None:
    async with db() as session:
        headline: str | None = await session.scalar(
            select(Member.headline).where(Member.id == member_id)
        )
        return headline


async def test_a_write_on_the_driver_is_the_sessions_own(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    member_id = await register(committed_client, "Ada Lovelace")
    params = {"member_id": member_id, "new_headline": "Rolled back"}
    async with committed_db() as session:
        # The first statement of the session: it begins the session's transaction.
        await driver.fetch(session, _HEADLINE, params)
        assert await _headline(committed_db, member_id) != "Rolled back"  # not committed
        await session.rollback()
    assert await _headline(committed_db, member_id) != "Rolled back"

    async with committed_db() as session:
        await driver.fetch(session, _HEADLINE, params | {"new_headline": "Committed"})
        await session.commit()
    assert await _headline(committed_db, member_id) == "Committed"


async def test_the_guards_lock_is_held_until_the_session_ends(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    member_id = await register(committed_client, "Ada Lovelace")
    async with committed_db() as session:
        held = await all_present(session, {member_id})
        assert held is not None
        assert held.members[member_id].name == "Ada Lovelace"
        assert held.with_endpoints == frozenset()
        async with committed_db() as other:
            # A deletion would wait: the row is key-share locked by the first session.
            locked = await other.scalar(
                select(Member.id).where(Member.id == member_id).with_for_update(skip_locked=True)
            )
        assert locked is None
        await session.commit()
    async with committed_db() as other:
        free = await other.scalar(
            select(Member.id).where(Member.id == member_id).with_for_update(skip_locked=True)
        )
    assert free == member_id


async def test_a_write_left_for_later_goes_with_the_next_statement_or_not_at_all(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    member_id = await register(committed_client, "Ada Lovelace")
    async with committed_db() as session:
        await driver.fetch(session, _HEADLINE, {"member_id": member_id, "new_headline": "A"})
        driver.later(session, _HEADLINE, {"member_id": member_id, "new_headline": "Later"})
        await session.rollback()
        assert driver.take_later(session) == []  # gone with the transaction
        driver.later(session, _HEADLINE, {"member_id": member_id, "new_headline": "Later"})
        await driver.write_later(session)
        await session.commit()
    assert await _headline(committed_db, member_id) == "Later"
