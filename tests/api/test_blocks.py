"""Blocking: to the blocked member the blocker is no member at all, byte for byte; the
two vanish from each other's paths, mutuals and lists; what was open between them closes
quietly; the blocked member is never told."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.notifications import Notification
from rapport_common.outbox import OutboxEvent
from tests.conftest import project_outbox
from tests.factories import SignedIn, connect, invitation_id, invite, sign_in, sign_in_all

# In the order they were written: a table read without ORDER BY has none.
ordered_events = select(OutboxEvent).order_by(OutboxEvent.sequence)


async def _block(client: httpx.AsyncClient, blocker: SignedIn, other: SignedIn) -> None:
    response = await client.post(f"/v1/blocks/{other.member_id}", headers=blocker.headers)
    assert response.status_code == 204, response.text


def _as_if(response: httpx.Response, member_id: uuid.UUID, ghost: uuid.UUID) -> tuple[int, Any]:
    """The answer with the member's id written as the ghost's, request ids dropped."""
    text = response.text.replace(str(member_id), str(ghost))
    body = httpx.Response(response.status_code, text=text).json() if text else None
    if isinstance(body, dict):
        body.pop("request_id", None)
    return response.status_code, body


async def test_a_blocked_member_sees_the_blocker_exactly_as_a_non_existent_member(
    client: httpx.AsyncClient,
) -> None:
    blocker, blocked, friend = await sign_in_all(client, "Bea Blocker", "Xavier", "Fay Friend")
    await connect(client, blocker, blocked)
    await connect(client, blocker, friend)
    await connect(client, blocked, friend)
    await client.patch(
        "/v1/me",
        json={"connections_visible_to": "everyone", "recommendations_visible_to": "everyone"},
        headers=blocker.headers,
    )
    await _block(client, blocker, blocked)
    ghost = uuid.uuid4()

    async def both(call: Callable[[uuid.UUID], Awaitable[httpx.Response]]) -> None:
        real = _as_if(await call(blocker.member_id), blocker.member_id, ghost)
        made_up = _as_if(await call(ghost), blocker.member_id, ghost)
        assert real == made_up
        assert real[0] == 404

    for suffix in ("", "/card", "/paths", "/mutuals", "/degree", "/connections"):

        async def read(member_id: uuid.UUID, suffix: str = suffix) -> httpx.Response:
            return await client.get(f"/v1/members/{member_id}{suffix}", headers=blocked.headers)

        await both(read)
    await both(lambda m: client.get(f"/v1/members/{m}/recommendations", headers=blocked.headers))
    await both(
        lambda m: client.post(
            "/v1/invitations",
            json={"to_member_id": str(m), "note": "Hi", "how_we_met": "coffee"},
            headers=blocked.headers,
        )
    )
    for role in ("intermediary_id", "target_id"):

        async def ask(member_id: uuid.UUID, role: str = role) -> httpx.Response:
            roles = {"intermediary_id": str(friend.member_id), "target_id": str(friend.member_id)}
            body = roles | {role: str(member_id), "note": "Please"}
            return await client.post("/v1/introductions", json=body, headers=blocked.headers)

        await both(ask)
    await both(
        lambda m: client.post(
            f"/v1/members/{m}/recommendations", json={"body": "Great"}, headers=blocked.headers
        )
    )
    await both(lambda m: client.post(f"/v1/blocks/{m}", headers=blocked.headers))
    # The friend's list of connections leaves the blocker out for the blocked member.
    listed = await client.get(
        f"/v1/members/{friend.member_id}/connections", headers=blocked.headers
    )
    assert str(blocker.member_id) not in listed.text


async def test_the_blocker_is_told_plainly(client: httpx.AsyncClient) -> None:
    blocker, blocked, friend = await sign_in_all(client, "Bea", "Xavier", "Fay")
    await connect(client, blocker, friend)
    await connect(client, friend, blocked)
    await _block(client, blocker, blocked)
    profile = await client.get(f"/v1/members/{blocked.member_id}", headers=blocker.headers)
    assert profile.status_code == 200
    asked = await client.post(
        "/v1/introductions",
        json={
            "intermediary_id": str(friend.member_id),
            "target_id": str(blocked.member_id),
            "note": "Please",
        },
        headers=blocker.headers,
    )
    assert asked.status_code == 422
    assert asked.json()["detail"] == "You blocked Xavier; unblock them first."


async def test_block_endpoints_are_idempotent_and_list_newest_first(
    client: httpx.AsyncClient,
) -> None:
    me, ann, ben = await sign_in_all(client, "Me", "Ann", "Ben")
    await _block(client, me, ann)
    await _block(client, me, ann)
    await _block(client, me, ben)
    listed = (await client.get("/v1/blocks", headers=me.headers)).json()
    assert [b["member"]["name"] for b in listed["items"]] == ["Ben", "Ann"]
    myself = await client.post(f"/v1/blocks/{me.member_id}", headers=me.headers)
    assert (myself.status_code, myself.json()["type"].rsplit("/", 1)[1]) == (422, "target-is-you")
    assert (
        await client.delete(f"/v1/blocks/{ann.member_id}", headers=me.headers)
    ).status_code == 204
    again = await client.delete(f"/v1/blocks/{ann.member_id}", headers=me.headers)
    assert (again.status_code, again.json()["type"].rsplit("/", 1)[1]) == (404, "not-blocked")
    assert (await client.get("/v1/blocks", headers=ann.headers)).json()["items"] == []


async def test_blocking_removes_the_connection_through_the_outbox(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    blocker, blocked = await sign_in_all(client, "Bea", "Xavier")
    await connect(client, blocker, blocked)
    await project_outbox(db_session, api_graph)
    degree = f"/v1/members/{blocked.member_id}/degree"
    assert (await client.get(degree, headers=blocker.headers)).json() == {"degree": 1}
    await _block(client, blocker, blocked)
    types = [e.type for e in (await db_session.execute(ordered_events)).scalars()]
    assert types[-2:] == ["connection.removed", "block.created"]
    await project_outbox(db_session, api_graph)
    assert (await client.get(degree, headers=blocker.headers)).json() == {"degree": None}
    connection = await client.get(f"/v1/connections/{blocked.member_id}", headers=blocker.headers)
    assert connection.status_code == 404


async def test_blocked_and_blocker_vanish_from_each_others_paths_and_mutuals(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    blocker, blocked, yan, target, far = await sign_in_all(
        client, "Bea", "Xavier", "Yan", "Tess", "Far"
    )
    for a, b in (
        (blocked, blocker),
        (blocker, target),
        (blocked, yan),
        (yan, target),
        (yan, blocker),
        (blocker, far),
    ):
        await connect(client, a, b)
    await project_outbox(db_session, api_graph)
    before = await client.get(f"/v1/members/{target.member_id}/mutuals", headers=blocked.headers)
    assert {m["name"] for m in before.json()["items"]} == {"Bea", "Yan"}

    # The graph still holds Xavier-Bea (the removal is not projected yet): the API filters.
    await _block(client, blocker, blocked)

    async def named(member: SignedIn, about: SignedIn, what: str) -> set[str]:
        response = await client.get(f"/v1/members/{about.member_id}/{what}", headers=member.headers)
        assert response.status_code == 200, response.text
        if what == "mutuals":
            return {m["name"] for m in response.json()["items"]}
        return {i["name"] for p in response.json()["items"] for i in p["intermediaries"]}

    assert await named(blocked, target, "mutuals") == {"Yan"}
    assert "Bea" not in await named(blocked, target, "paths")
    assert "Bea" not in await named(blocked, far, "paths")  # Xavier-Yan-Bea-Far: not a way
    assert "Xavier" not in await named(blocker, yan, "mutuals")
    await project_outbox(db_session, api_graph)
    assert await named(blocked, target, "mutuals") == {"Yan"}
    assert "Bea" not in await named(blocked, far, "paths")


async def test_what_was_open_between_them_closes_quietly(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    blocker, blocked, inviter, friend = await sign_in_all(client, "Bea", "Xavier", "Ivo", "Fay")
    await connect(client, blocker, friend)
    await connect(client, blocked, friend)
    sent = await invitation_id(client, blocked, blocker)
    other = await invitation_id(client, inviter, blocker)
    asked = await client.post(
        "/v1/introductions",
        json={
            "intermediary_id": str(friend.member_id),
            "target_id": str(blocker.member_id),
            "note": "Please",
        },
        headers=blocked.headers,
    )
    introduction = asked.json()["introduction_id"]
    await _block(client, blocker, blocked)

    mine = await client.get(f"/v1/invitations/{sent}", headers=blocked.headers)
    assert mine.json()["status"] == "expired"
    untouched = await client.get(f"/v1/invitations/{other}", headers=inviter.headers)
    assert untouched.json()["status"] == "pending"
    closed = await client.get(f"/v1/introductions/{introduction}", headers=friend.headers)
    assert closed.json()["status"] == "declined"
    # For the blocked member it is gone, as anything else with the blocker in it.
    gone = await client.get(f"/v1/introductions/{introduction}", headers=blocked.headers)
    assert gone.status_code == 404
    assert (await client.get("/v1/introductions", headers=blocked.headers)).json()["items"] == []
    new = [e.type for e in (await db_session.execute(ordered_events)).scalars()]
    assert new[-3:] == ["invitation.expired", "introduction.closed", "block.created"]


async def test_the_blocked_member_is_never_told(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    run_worker: Callable[[], Awaitable[None]],
) -> None:
    blocker, blocked, friend = await sign_in_all(committed_client, "Bea", "Xavier", "Fay")
    await connect(committed_client, blocker, friend)
    await connect(committed_client, blocked, blocker)
    asked = await committed_client.post(
        "/v1/introductions",
        json={
            "intermediary_id": str(blocker.member_id),
            "target_id": str(friend.member_id),
            "note": "Please",
        },
        headers=blocked.headers,
    )
    assert asked.status_code == 201, asked.text
    await run_worker()
    async with committed_db() as session:
        before = set((await session.execute(select(Notification.id))).scalars())

    await _block(committed_client, blocker, blocked)
    await run_worker()

    async with committed_db() as session:
        after = (await session.execute(select(Notification))).scalars().all()
        events = (await session.execute(select(OutboxEvent))).scalars().all()
    assert [n.kind for n in after if n.id not in before] == []
    assert all(e.completed_at is not None for e in events)


async def test_unblocking_restores_visibility_but_not_the_connection(
    client: httpx.AsyncClient,
) -> None:
    blocker, blocked = await sign_in_all(client, "Bea", "Xavier")
    await connect(client, blocker, blocked)
    await _block(client, blocker, blocked)
    profile = f"/v1/members/{blocker.member_id}"
    assert (await client.get(profile, headers=blocked.headers)).status_code == 404
    await client.delete(f"/v1/blocks/{blocked.member_id}", headers=blocker.headers)
    assert (await client.get(profile, headers=blocked.headers)).status_code == 200
    assert (await client.get("/v1/connections", headers=blocked.headers)).json()["items"] == []
    assert (await invite(client, blocked, blocker)).status_code == 201


@pytest.mark.parametrize("method", ["post", "delete"])
async def test_blocking_needs_a_signed_in_member(client: httpx.AsyncClient, method: str) -> None:
    other = await sign_in(client)
    response = await client.request(method, f"/v1/blocks/{other.member_id}")
    assert response.status_code == 401
