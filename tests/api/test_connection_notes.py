"""My own notes and tags on my connections, and the history of what I logged with them."""

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.notes import ConnectionNote
from tests.conftest import SteppingClock
from tests.factories import SignedIn, connect, sign_in_all


async def _note(
    client: httpx.AsyncClient, me: SignedIn, other: SignedIn, note: str | None, *tags: str
) -> httpx.Response:
    return await client.put(
        f"/v1/connections/{other.member_id}/note",
        json={"note": note, "tags": list(tags)},
        headers=me.headers,
    )


async def test_notes_and_tags_are_seen_only_by_their_author(client: httpx.AsyncClient) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob)
    written = await _note(
        client, ada, bob, "Met at PyCon; ask about Rust.", "Python", "python", "CRM"
    )
    assert written.status_code == 200, written.text
    assert (written.json()["my_note"], written.json()["my_tags"]) == (
        "Met at PyCon; ask about Rust.",
        ["python", "crm"],
    )
    mine = (await client.get(f"/v1/connections/{bob.member_id}", headers=ada.headers)).json()
    assert mine["my_tags"] == ["python", "crm"]
    theirs = (await client.get(f"/v1/connections/{ada.member_id}", headers=bob.headers)).json()
    assert (theirs["my_note"], theirs["my_tags"]) == (None, [])
    listed = (await client.get("/v1/connections", headers=bob.headers)).json()["items"]
    assert [(c["my_note"], c["my_tags"]) for c in listed] == [(None, [])]
    cleared = await _note(client, ada, bob, None)
    assert (cleared.json()["my_note"], cleared.json()["my_tags"]) == (None, [])


async def test_a_note_needs_a_connection_and_valid_tags(client: httpx.AsyncClient) -> None:
    ada, bob, eve = await sign_in_all(client, "Ada", "Bob", "Eve")
    await connect(client, ada, bob)
    assert (await _note(client, ada, eve, "hi")).status_code == 404
    assert (await _note(client, ada, bob, None, "x" * 41)).status_code == 422
    assert (await _note(client, ada, bob, None, "two\nlines")).status_code == 422
    too_many = [f"tag{i}" for i in range(21)]
    assert (await _note(client, ada, bob, None, *too_many)).status_code == 422


async def test_connections_filter_by_tag(client: httpx.AsyncClient) -> None:
    me, ann, ben, cat = await sign_in_all(client, "Me", "Ann", "Ben", "Cat")
    for other in (ann, ben, cat):
        await connect(client, me, other)
    await _note(client, me, ann, None, "python", "berlin")
    await _note(client, me, ben, None, "python")
    await _note(client, me, cat, "no tags")

    async def names(query: str) -> list[str]:
        page = await client.get(f"/v1/connections{query}", headers=me.headers)
        assert page.status_code == 200, page.text
        return [c["name"] for c in page.json()["items"]]

    assert await names("") == ["Ann", "Ben", "Cat"]
    assert await names("?tag=python") == ["Ann", "Ben"]
    assert await names("?tag=Python&tag=berlin") == ["Ann"]
    assert await names("?tag=rust") == []
    first = (await client.get("/v1/connections?tag=python&limit=1", headers=me.headers)).json()
    second = await client.get(
        f"/v1/connections?tag=python&limit=1&cursor={first['next_cursor']}", headers=me.headers
    )
    assert [c["name"] for c in second.json()["items"]] == ["Ben"]


async def test_removing_the_connection_removes_both_sides_notes(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob)
    await _note(client, ada, bob, "Ada's note")
    await _note(client, bob, ada, "Bob's note")
    await client.delete(f"/v1/connections/{bob.member_id}", headers=ada.headers)
    assert (await db_session.execute(select(ConnectionNote))).scalars().all() == []


async def test_interaction_history_lists_what_i_logged_newest_first_paginated(
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    ada, bob, eve = await sign_in_all(client, "Ada", "Bob", "Eve")
    await connect(client, ada, bob)
    await connect(client, ada, eve)
    start = clock.now
    for days, kind in ((1, "coffee"), (3, "call"), (2, "beer")):
        logged = await client.post(
            f"/v1/connections/{bob.member_id}/interactions",
            json={"kind": kind, "occurred_at": (start - timedelta(days=days)).isoformat()},
            headers=ada.headers,
        )
        assert logged.status_code == 201
    # Bob's own log and Ada's log with Eve are not part of Ada's history with Bob.
    await client.post(
        f"/v1/connections/{ada.member_id}/interactions",
        json={"kind": "meal", "occurred_at": start.isoformat()},
        headers=bob.headers,
    )
    await client.post(
        f"/v1/connections/{eve.member_id}/interactions",
        json={"kind": "event", "occurred_at": start.isoformat()},
        headers=ada.headers,
    )

    url = f"/v1/connections/{bob.member_id}/interactions"
    first = (await client.get(f"{url}?limit=2", headers=ada.headers)).json()
    second = (
        await client.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=ada.headers)
    ).json()
    kinds = [i["kind"] for i in first["items"] + second["items"]]
    assert kinds == ["coffee", "beer", "call"]
    assert second["next_cursor"] is None
    assert {i["member_id"] for i in first["items"]} == {str(bob.member_id)}
    bobs = await client.get(f"/v1/connections/{ada.member_id}/interactions", headers=bob.headers)
    assert [i["kind"] for i in bobs.json()["items"]] == ["meal"]
    assert (
        await client.get(f"/v1/connections/{eve.member_id}/interactions", headers=bob.headers)
    ).status_code == 404
