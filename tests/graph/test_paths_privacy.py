"""The graph's answers apply the privacy rule (docs/privacy.md): what a viewer may learn
of other members' links comes only through ways every intermediary and the target
consent to, so no answer changes when a link the rule hides is there or not."""

import itertools
import random
from typing import Any

import httpx
import pytest

from services.graph.database import Graph
from services.graph.paths import service
from tests.graph import reference
from tests.graph.builders import get_json, new_id, seed
from tests.graph.reference import AT, Link, Network


def _network(*links: tuple[str, str, int], **settings: dict[str, str]) -> Network:
    """Links rated the same by both sides and dated at AT, so strength = rating / 10;
    ``settings`` per member: visible, reach and allows (as "false")."""
    network = Network()
    for a, b, rating in links:
        for member in (a, b):
            network.allows.setdefault(member, True)
        network.add(Link(a, b, rating, rating, "coffee", AT))
    for member, chosen in settings.items():
        if "visible" in chosen:
            network.visible[member] = chosen["visible"]
        if "reach" in chosen:
            network.reach[member] = chosen["reach"]
        if chosen.get("allows") == "false":
            network.allows[member] = False
    return network


async def _reseed(graph: Graph, network: Network) -> None:
    await graph.write("MATCH (n) DETACH DELETE n")
    await seed(graph, network)


async def _ask(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    return await get_json(client, f"/internal/v1/{path}", at=AT.isoformat(), **params)


async def _answers(client: httpx.AsyncClient, network: Network, viewer: str) -> dict[str, Any]:
    """Everything the graph answers the viewer about every other member."""
    answers: dict[str, Any] = {}
    for other in sorted(network.allows):
        if other == viewer:
            continue
        answers[other] = (
            await _ask(client, "paths", source=viewer, target=other, limit="100"),
            await _ask(client, "mutuals", member_id=viewer, other_id=other),
            await _ask(client, "degree", source=viewer, target=other),
        )
    return answers


@pytest.mark.parametrize("seed_value", [31, 32, 33])
async def test_no_answer_depends_on_a_link_the_viewer_may_not_learn(
    graph: Graph, graph_client: httpx.AsyncClient, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    # 18 members: each of the 18 combinations of settings once.
    network = reference.random_network(
        rng, members=18, links=45, at=AT, settings_rng=random.Random(seed_value + 1)
    )
    for viewer in rng.sample(sorted(network.allows), 4):
        hidden = reference.way_hidden(network, viewer)
        assert hidden  # not vacuous
        await _reseed(graph, network)
        before = await _answers(graph_client, network, viewer)
        await _reseed(graph, network.without(hidden))
        assert await _answers(graph_client, network, viewer) == before, viewer


@pytest.mark.parametrize("seed_value", [31, 32, 33])
async def test_mutuals_match_the_ways_the_viewer_may_see(
    graph: Graph, graph_client: httpx.AsyncClient, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    network = reference.random_network(
        rng, members=18, links=60, at=AT, settings_rng=random.Random(seed_value + 1)
    )
    await seed(graph, network)
    found = 0
    for viewer, other in itertools.permutations(sorted(network.allows), 2):
        body = await _ask(graph_client, "mutuals", member_id=viewer, other_id=other)
        got = sorted(mutual["member_id"] for mutual in body["mutuals"])
        assert got == reference.mutuals(network, viewer, other), (viewer, other)
        found += bool(got)
    assert found > 20


async def test_reachable_by_second_degree_hides_three_hop_ways(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, x, y, t = (new_id() for _ in range(4))
    links = ((s, x, 8), (x, y, 8), (y, t, 8))
    await seed(graph, _network(*links, **{t: {"reach": "second_degree"}}))

    assert await _ask(graph_client, "paths", source=s, target=t) == {"degree": None, "paths": []}
    assert await _ask(graph_client, "degree", source=s, target=t) == {"degree": None}

    await _reseed(graph, _network(*links, **{t: {"reach": "everyone"}}))
    assert await _ask(graph_client, "degree", source=s, target=t) == {"degree": 3}


async def test_a_member_reachable_by_nobody_shows_no_way_but_a_direct_link(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, x, t, friend = (new_id() for _ in range(4))
    await seed(graph, _network((s, x, 8), (x, t, 8), (friend, t, 8), **{t: {"reach": "nobody"}}))

    assert await _ask(graph_client, "paths", source=s, target=t) == {"degree": None, "paths": []}
    assert await _ask(graph_client, "mutuals", member_id=s, other_id=t) == {"mutuals": []}
    assert await _ask(graph_client, "degree", source=x, target=t) == {"degree": 1}


async def test_only_me_members_stand_between_no_one(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, hidden, open_, t = (new_id() for _ in range(4))
    network = _network(
        (s, hidden, 9), (hidden, t, 9), (s, open_, 5), (open_, t, 5),
        **{hidden: {"visible": "only_me"}},
    )  # fmt: skip
    await seed(graph, network)

    body = await _ask(graph_client, "paths", source=s, target=t)
    mutuals = await _ask(graph_client, "mutuals", member_id=s, other_id=t)

    assert [path["intermediaries"] for path in body["paths"]] == [[open_]]
    assert [mutual["member_id"] for mutual in mutuals["mutuals"]] == [open_]


async def test_my_ranking_does_not_move_when_an_intermediary_re_rates_me(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, x, y, t = (new_id() for _ in range(4))

    def network(x_rates_me: int) -> Network:
        built = _network((x, t, 6), (s, y, 6), (y, t, 6))
        built.add(Link(s, x, 6, x_rates_me, "coffee", AT))
        return built

    await seed(graph, network(x_rates_me=10))
    before = await _ask(graph_client, "paths", source=s, target=t)
    await _reseed(graph, network(x_rates_me=1))

    assert await _ask(graph_client, "paths", source=s, target=t) == before
    assert [link["band"] for link in before["paths"][0]["links"]] == ["good", "good"]


@pytest.mark.usefixtures("small_caps")
async def test_degree_agrees_with_paths_when_an_unexpanded_member_opted_out(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, first, second, t = (new_id() for _ in range(4))
    network = _network((s, first, 9), (first, second, 9), (second, t, 9))
    for hub in (first, second):  # both unexpanded: their link is found by the pair check
        for _ in range(service.HUB_DEGREE):
            network.add(Link(hub, new_id(), 5, 5, "coffee", AT))

    for refusing, expected in ((True, None), (False, 3)):
        network.allows[second] = not refusing
        await _reseed(graph, network)
        paths = await _ask(graph_client, "paths", source=s, target=t)
        degree = await _ask(graph_client, "degree", source=s, target=t)
        assert paths["degree"] == degree["degree"] == expected


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "HUB_DEGREE", 4)
    monkeypatch.setattr(service, "EXPANSION_BUDGET", 12)
