"""The profile card answers in one call what /degree, /mutuals and sending would."""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.blocks import Block
from tests.conftest import project_outbox
from tests.factories import SignedIn, connect, invitation_id, sign_in


async def _card(client: httpx.AsyncClient, me: SignedIn, other: SignedIn) -> dict[str, Any]:
    response = await client.get(f"/v1/members/{other.member_id}/card", headers=me.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_card_agrees_with_degree_mutuals_and_sending(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    api_graph: httpx.AsyncClient,
) -> None:
    ada, bob, carol, dan = [await sign_in(client, n) for n in ("Ada", "Bob", "Carol", "Dan")]
    await connect(client, ada, bob)
    await connect(client, bob, carol)
    await project_outbox(db_session, api_graph)

    card = await _card(client, ada, carol)
    degree = await client.get(f"/v1/members/{carol.member_id}/degree", headers=ada.headers)
    mutuals = await client.get(f"/v1/members/{carol.member_id}/mutuals", headers=ada.headers)
    assert card["degree"] == degree.json()["degree"] == 2
    assert card["mutual_count"] == len(mutuals.json()["items"]) == 1
    assert card["graph_available"] is True
    assert (
        card["profile"]
        == (await client.get(f"/v1/members/{carol.member_id}", headers=ada.headers)).json()
    )
    assert card["invitation"] == {"state": "possible", "invitation_id": None, "possible_from": None}

    sent = await invitation_id(client, ada, carol)
    assert (await _card(client, ada, carol))["invitation"] == {
        "state": "sent",
        "invitation_id": sent,
        "possible_from": None,
    }
    assert (await _card(client, carol, ada))["invitation"]["state"] == "received"
    assert (await _card(client, ada, bob))["invitation"]["state"] == "connected"

    withdrawn = await client.post(f"/v1/invitations/{sent}/withdraw", headers=ada.headers)
    assert withdrawn.status_code == 200
    card = await _card(client, ada, carol)
    again = await client.post(
        "/v1/invitations",
        json={"to_member_id": str(carol.member_id), "note": "Hi", "how_we_met": "coffee"},
        headers=ada.headers,
    )
    assert card["invitation"]["state"] == "withdrawn_recently"
    assert again.status_code == 409
    assert datetime.fromisoformat(card["invitation"]["possible_from"]) == datetime.fromisoformat(
        again.json()["blocked_until"]
    )
    assert (await _card(client, ada, dan))["degree"] is None


@pytest.fixture
async def graph_down(api_app: FastAPI) -> AsyncIterator[None]:
    original = api_app.state.graph_client
    async with httpx.AsyncClient(base_url="http://127.0.0.1:1", timeout=2) as unreachable:
        api_app.state.graph_client = unreachable
        yield
    api_app.state.graph_client = original


@pytest.mark.usefixtures("graph_down")
async def test_without_the_graph_the_card_still_answers_and_says_so(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    card = await _card(client, ada, bob)
    assert card["graph_available"] is False
    assert card["degree"] is None and card["mutual_count"] is None
    assert card["invitation"]["state"] == "possible"


def _as_for(response: httpx.Response, member_id: uuid.UUID) -> tuple[int, dict[str, object]]:
    body = {k: v for k, v in response.json().items() if k not in ("instance", "request_id")}
    return response.status_code, {
        k: v.replace(str(member_id), "*") if isinstance(v, str) else v for k, v in body.items()
    }


async def test_the_card_is_404_for_a_member_who_blocked_me(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in(client, "Ada"), await sign_in(client, "Bob")
    db_session.add(Block(blocker_id=bob.member_id, blocked_id=ada.member_id))
    await db_session.commit()  # kept when a request's 404 rolls back its own savepoint
    ghost = uuid.uuid4()
    blocked = await client.get(f"/v1/members/{bob.member_id}/card", headers=ada.headers)
    missing = await client.get(f"/v1/members/{ghost}/card", headers=ada.headers)
    assert blocked.status_code == 404
    assert _as_for(blocked, bob.member_id) == _as_for(missing, ghost)
    # The blocker, for their part, is told plainly.
    mine = await _card(client, bob, ada)
    assert mine["invitation"]["state"] == "blocked_by_me"


async def test_my_own_card_is_422(client: httpx.AsyncClient) -> None:
    ada = await sign_in(client, "Ada")
    response = await client.get(f"/v1/members/{ada.member_id}/card", headers=ada.headers)
    assert response.status_code == 422
    assert response.json()["type"].endswith("/target-is-you")
