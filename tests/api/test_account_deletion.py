"""DELETE /v1/me: the password confirms it, wrong guesses are throttled like sign-in, and
the member is gone at once from every read, including the graph's before it catches up.
The scan for leftovers is tests/notifier/test_erasure_leftovers.py."""

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.erasures import MemberErasure
from rapport_common.outbox import OutboxEvent
from rapport_common.settings import Settings
from services.graph.database import Graph
from tests.conftest import project_outbox
from tests.factories import PASSWORD, SignedIn, connect, register, sign_in, sign_in_all


async def _delete(
    client: httpx.AsyncClient, member: SignedIn, password: str = PASSWORD
) -> httpx.Response:
    return await client.request(
        "DELETE", "/v1/me", json={"password": password}, headers=member.headers
    )


async def test_delete_me_with_a_wrong_password_is_403_and_deletes_nothing(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client, "Ada Lovelace")
    response = await _delete(client, ada, "not-my-password")
    assert response.status_code == 403
    assert response.json()["type"].endswith("wrong-password")
    assert (await client.get("/v1/me", headers=ada.headers)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [None, {}, {"password": ""}, {"password": "x" * 257}, {"password": PASSWORD, "also": 1}],
)
async def test_delete_me_without_a_usable_password_is_422(
    client: httpx.AsyncClient, body: object
) -> None:
    ada = await sign_in(client, "Ada Lovelace")
    response = await client.request("DELETE", "/v1/me", json=body, headers=ada.headers)
    assert response.status_code == 422
    assert (await client.get("/v1/me", headers=ada.headers)).status_code == 200


async def test_wrong_passwords_are_throttled_like_sign_in(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ada = await sign_in(client, "Ada Lovelace")
    for _ in range(settings.auth.sign_in_failures_per_account):
        assert (await _delete(client, ada, "guess")).status_code == 403
    throttled = await _delete(client, ada, PASSWORD)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    # Sign-in counts the same failures: deleting is no faster way to guess.
    signing_in = await client.post(
        "/v1/auth/token", data={"username": ada.email, "password": PASSWORD}
    )
    assert signing_in.status_code == 429


async def test_a_deleted_member_is_signed_out_everywhere_at_once(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client, "Ada Lovelace")
    tokens = await client.post("/v1/auth/token", data={"username": ada.email, "password": PASSWORD})
    refresh_token = tokens.json()["refresh_token"]
    assert (await _delete(client, ada)).status_code == 204
    assert (await client.get("/v1/me", headers=ada.headers)).status_code == 401
    refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert refreshed.status_code == 401
    signing_in = await client.post(
        "/v1/auth/token", data={"username": ada.email, "password": PASSWORD}
    )
    assert signing_in.status_code == 401
    assert (await _delete(client, ada)).status_code == 401


async def test_the_address_of_a_deleted_account_can_register_again(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client, "Ada Lovelace")
    assert (await _delete(client, ada)).status_code == 204
    again = await register(client, "Ada Again", email=ada.email)
    assert again != ada.member_id
    signed_in = await client.post(
        "/v1/auth/token", data={"username": ada.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200


async def test_a_deleted_member_disappears_from_search_lists_cards_and_recommendations(
    client: httpx.AsyncClient,
) -> None:
    gone, friend = await sign_in_all(client, "Zebulon Quixotic", "Friend Person")
    await connect(client, gone, friend, 9, 9)
    assert (await _delete(client, gone)).status_code == 204
    about = f"/v1/members/{gone.member_id}"
    for path in (about, f"{about}/card", f"{about}/connections", f"{about}/recommendations"):
        assert (await client.get(path, headers=friend.headers)).status_code == 404, path
    search = await client.get("/v1/members", params={"q": "Zebulon"}, headers=friend.headers)
    assert search.status_code == 200
    assert search.json()["items"] == []
    mine = await client.get("/v1/connections", headers=friend.headers)
    assert str(gone.member_id) not in mine.text
    listed = await client.get(f"/v1/members/{friend.member_id}/connections", headers=friend.headers)
    assert str(gone.member_id) not in listed.text


@pytest.mark.usefixtures("api_graph")
async def test_paths_mutuals_and_degree_drop_a_deleted_member_before_the_graph_catches_up(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    api_graph: httpx.AsyncClient,
    graph: Graph,
) -> None:
    """me - gone - target (2 hops) and me - far - farther - target (3 hops)."""
    me, gone, target, far, farther = await sign_in_all(
        client, "Me", "Gone Member", "Target", "Far", "Farther"
    )
    await connect(client, me, gone, 9, 9)
    await connect(client, gone, target, 9, 9)
    await connect(client, me, far, 5, 5)
    await connect(client, far, farther, 5, 5)
    await connect(client, farther, target, 5, 5)
    await project_outbox(db_session, api_graph)
    about = f"/v1/members/{target.member_id}"
    before = await client.get(f"{about}/degree", headers=me.headers)
    assert before.json()["degree"] == 2

    assert (await _delete(client, gone)).status_code == 204
    # The graph has not seen member.deleted: it still holds the 2-hop way.
    degree = await client.get(f"{about}/degree", headers=me.headers)
    paths = (await client.get(f"{about}/paths", headers=me.headers)).json()
    mutuals = (await client.get(f"{about}/mutuals", headers=me.headers)).json()
    card = (await client.get(f"{about}/card", headers=me.headers)).json()
    assert degree.json()["degree"] == 3
    assert paths["degree"] == 3
    assert str(gone.member_id) not in str(paths)
    assert mutuals["items"] == []
    assert card["degree"] == 3 and card["mutual_count"] == 0

    await project_outbox(db_session, api_graph)
    left = await graph.write(
        "MATCH (m:Member {member_id: $member_id}) RETURN count(m) AS found",
        member_id=str(gone.member_id),
    )
    assert left == [{"found": 0}]
    after = await client.get(f"{about}/degree", headers=me.headers)
    assert after.json()["degree"] == 3


async def test_deleting_records_member_deleted_with_ids_only(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    gone, friend = await sign_in_all(client, "Zebulon Quixotic", "Friend Person")
    await connect(client, gone, friend, 9, 9)
    assert (await _delete(client, gone)).status_code == 204
    events = (
        (await db_session.execute(select(OutboxEvent).order_by(OutboxEvent.sequence)))
        .scalars()
        .all()
    )
    naming = [e for e in events if str(gone.member_id) in str(e.payload)]
    assert [(e.type, e.payload) for e in naming] == [
        ("member.deleted", {"member_id": str(gone.member_id)})
    ]
    erasures = await db_session.scalar(select(func.count()).select_from(MemberErasure))
    assert erasures == 1


async def test_delete_me_is_documented_with_its_errors(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/me"]["delete"]
    assert {"204", "401", "403", "422", "429", "503"} <= set(operation["responses"])
    assert "password" in operation["description"]
