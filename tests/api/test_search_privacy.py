"""Search's closeness under the privacy rule (docs/privacy.md, docs/search.md): the degree a
hit shows is the one GET /v1/members/{id}/degree gives, and a search answers the same
with or without the links the viewer may not learn. Small random worlds over every
combination of settings, the real graph service behind /degree."""

import itertools
import random
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.test_search import _patch, _search, _word
from tests.conftest import project_outbox
from tests.factories import SignedIn, connect, sign_in
from tests.graph import reference

pytestmark = pytest.mark.usefixtures("api_graph", "clock")

# Sparse enough for 3rd-degree members in every seed below.
MEMBERS, LINKS = 8, 10
SEEDS = [0, 2, 3]


async def _world(
    client: httpx.AsyncClient, seed_value: int
) -> tuple[list[SignedIn], reference.Network, list[tuple[int, int]], str]:
    rng = random.Random(seed_value)
    word = _word(rng)
    members = [await sign_in(client, f"{word} Member {i}") for i in range(MEMBERS)]
    ids = [str(member.member_id) for member in members]
    network = reference.Network()
    for i, member in enumerate(members):
        visible, allows, reach = reference.SETTINGS[(seed_value * MEMBERS + i) % 18]
        await _patch(
            client,
            member,
            connections_visible_to=visible,
            allows_introductions=allows,
            reachable_by=reach,
        )
        network.visible[ids[i]], network.allows[ids[i]] = visible, allows
        network.reach[ids[i]] = reach
    pairs = rng.sample(list(itertools.combinations(range(MEMBERS), 2)), LINKS)
    for a, b in pairs:
        await connect(client, members[a], members[b])
        network.add(reference.Link(ids[a], ids[b], 8, 8, "coffee", reference.AT))
    return members, network, pairs, word


async def _degrees(client: httpx.AsyncClient, viewer: SignedIn, word: str) -> dict[str, Any]:
    body = await _search(client, viewer, word, limit=50)
    return {hit["member_id"]: hit["degree"] for hit in body["items"]}


@pytest.mark.parametrize("seed_value", SEEDS)
async def test_search_degree_equals_the_degree_endpoint(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    api_graph: httpx.AsyncClient,
    seed_value: int,
) -> None:
    members, _, _, word = await _world(client, seed_value)
    await project_outbox(db_session, api_graph)

    seen: set[int | None] = set()
    for viewer in members:
        found = await _degrees(client, viewer, word)
        expected = {}
        for other in members:
            if other is viewer:
                continue
            response = await client.get(
                f"/v1/members/{other.member_id}/degree", headers=viewer.headers
            )
            assert response.status_code == 200, response.text
            expected[str(other.member_id)] = response.json()["degree"]
        assert found == expected
        seen |= set(found.values())
    assert {1, 2, 3, None} <= seen  # not vacuous


@pytest.mark.parametrize("seed_value", SEEDS)
async def test_search_answer_does_not_depend_on_links_the_viewer_may_not_learn(
    client: httpx.AsyncClient, seed_value: int
) -> None:
    members, network, pairs, word = await _world(client, seed_value)
    ids = [str(member.member_id) for member in members]
    viewers = [i for i in range(MEMBERS) if reference.hidden_from(network, ids[i])]
    assert viewers  # not vacuous
    viewer = members[viewers[0]]
    hidden = reference.hidden_from(network, ids[viewers[0]])
    before = await _search(client, viewer, word, limit=50)

    for a, b in pairs:
        if frozenset((ids[a], ids[b])) in hidden:
            response = await client.delete(
                f"/v1/connections/{members[b].member_id}", headers=members[a].headers
            )
            assert response.status_code == 204, response.text

    assert await _search(client, viewer, word, limit=50) == before
