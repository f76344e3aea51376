"""A change PostgreSQL rolls back for another transaction's sake (a deadlock) is not the
request's fault: the fast route hands the request to the locked one, which answers as
the other change left things; a locked route's transaction is answered 503
``concurrent-change`` with ``Retry-After``, nothing saved. Never a 500.

The deadlock is real: the inviter's erasure locks their member row, then their
invitations; an accept locks the invitation, then its new connection's foreign key
waits on the member row. The test holds the member row, waits until the accept is
blocked on it, then erases: PostgreSQL rolls the accept back (it waited first, so its
deadlock check runs first)."""

import asyncio
from collections.abc import AsyncGenerator
from functools import partial
from types import SimpleNamespace
from typing import cast

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from rapport_common.models.connections import Connection
from rapport_common.models.members import Member
from services.api.deps import ConcurrentChange, get_session
from services.api.erasure.service import erase
from tests.conftest import SteppingClock, eventually
from tests.factories import invitation_id, sign_in


async def _waits_on_a_lock(db: async_sessionmaker[AsyncSession], statement: str) -> bool:
    """Whether a statement containing ``statement`` waits on a lock."""
    async with db() as probe:
        waiting = await probe.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND strpos(query, :statement) > 0"
            ),
            {"statement": statement},
        )
        return bool(waiting.scalar_one() > 0)


async def _accept_during_erasure(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    clock: SteppingClock,
) -> httpx.Response:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    invitation = await invitation_id(client, ada, bob)
    async with db() as eraser:
        inviter = (
            await eraser.execute(select(Member).where(Member.id == ada.member_id).with_for_update())
        ).scalar_one()
        accept = asyncio.ensure_future(
            client.post(
                f"/v1/invitations/{invitation}/accept",
                json={"rating": 7},
                headers=bob.headers,
            )
        )

        await eventually(partial(_waits_on_a_lock, db, "INSERT INTO connections"))
        await erase(eraser, inviter, clock())
        await eraser.commit()
        response = await accept
    async with db() as session:
        connections = await session.execute(select(func.count()).select_from(Connection))
        assert connections.scalar_one() == 0  # the erasure won; nothing of the accept stays
    return response


async def test_the_fast_accept_rolled_back_by_a_deadlock_is_answered_by_the_locked_route(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    clock: SteppingClock,
) -> None:
    response = await _accept_during_erasure(committed_client, committed_db, clock)
    # The locked route, run after the erasure committed, finds no invitation to accept.
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_transaction_rolled_back_by_a_deadlock_is_a_503_to_retry(
    committed_db: async_sessionmaker[AsyncSession],
) -> None:
    # The locked routes' transaction (get_session, driven as FastAPI drives it) and
    # another one take two advisory locks in opposite orders; the request's waits first,
    # so PostgreSQL's deadlock check rolls it back.
    request = cast(
        Request,
        SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(sessionmaker=committed_db))),
    )
    requests_transaction = cast(AsyncGenerator[AsyncSession], get_session(request))
    session = await anext(requests_transaction)
    async with committed_db() as other:
        await session.execute(text("SELECT pg_advisory_xact_lock(1)"))
        await other.execute(text("SELECT pg_advisory_xact_lock(2)"))
        waiting = asyncio.ensure_future(session.execute(text("SELECT pg_advisory_xact_lock(2)")))

        await eventually(partial(_waits_on_a_lock, committed_db, "pg_advisory_xact_lock(2)"))
        other_takes_the_first = asyncio.ensure_future(
            other.execute(text("SELECT pg_advisory_xact_lock(1)"))
        )
        with pytest.raises(DBAPIError) as deadlock:
            await waiting
        await other_takes_the_first  # the request's locks went with its rollback
        await other.rollback()
    with pytest.raises(ConcurrentChange) as answered:
        await requests_transaction.athrow(deadlock.value)
    problem = answered.value
    assert problem.status == 503
    assert "nothing was saved" in problem.detail
    assert problem.headers == {"Retry-After": "1"}
