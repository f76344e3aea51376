"""PostgreSQL stopped at once while an invitee answers: accept and decline run their
statements on the driver's connection (``services.api.invitations.answers``), and a
lost connection there is a 503 problem with Retry-After as anywhere else, never a 500;
once PostgreSQL is back, the answer goes through, once."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.test_answer_races import _connections, _event_types
from tests.conftest import eventually
from tests.factories import invitation_id, sign_in
from tests.recovery.conftest import READY_WITHIN_SECONDS, stack

pytestmark = pytest.mark.faults


async def test_an_answer_while_postgres_is_down_is_a_503_then_goes_through_once(
    committed_client: httpx.AsyncClient, committed_db: async_sessionmaker[AsyncSession]
) -> None:
    client = committed_client
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    invitation = await invitation_id(client, ada, bob)
    path = f"/v1/invitations/{invitation}"
    await stack("stop", "postgres", "--immediate")
    try:
        for answer, body in (("accept", {"rating": 7}), ("decline", None)):
            response = await client.post(f"{path}/{answer}", json=body, headers=bob.headers)
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"]
            assert response.json()["type"].endswith("/database-unavailable")
    finally:
        await stack("start", "postgres")

    async def accepted() -> bool:
        response = await client.post(f"{path}/accept", json={"rating": 7}, headers=bob.headers)
        assert response.status_code in (200, 503), response.text
        return response.status_code == 200

    await eventually(accepted, within=READY_WITHIN_SECONDS, interval=0.1)
    assert await _event_types(committed_db, invitation) == [
        "invitation.sent",
        "invitation.accepted",
    ]
    assert await _connections(committed_db) == 1
