"""The bounds of the path search (docs/graph.md, "Bounds"), with the caps made small."""

import random
from typing import Any, LiteralString

import httpx
import pytest

from services.graph.database import Graph
from services.graph.paths import service
from tests.graph import reference
from tests.graph.builders import check_pairs_against_brute_force, get_json, new_id, seed
from tests.graph.reference import AT, Link, Network


def _network(*links: tuple[str, str, int]) -> Network:
    network = Network()
    for a, b, rating in links:
        network.allows.setdefault(a, True)
        network.allows.setdefault(b, True)
        network.add(Link(a, b, rating, rating, "coffee", AT))
    return network


def _with_fans(network: Network, *hubs: str) -> Network:
    """Give each hub more connections than the (patched) hub threshold."""
    for hub in hubs:
        for _ in range(service.HUB_DEGREE):
            network.add(Link(hub, new_id(), 5, 5, "coffee", AT))
    return network


async def _intermediaries(client: httpx.AsyncClient, source: str, target: str) -> list[list[str]]:
    body = await get_json(
        client, "/internal/v1/paths", source=source, target=target, at=AT.isoformat()
    )
    return [path["intermediaries"] for path in body["paths"]]


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "HUB_DEGREE", 4)
    monkeypatch.setattr(service, "EXPANSION_BUDGET", 12)
    monkeypatch.setattr(service, "WHOLE_SIDE_BUDGET", 24)


@pytest.mark.usefixtures("small_caps")
async def test_link_from_a_hub_is_found_from_the_other_side(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, hub, y, t = (new_id() for _ in range(4))
    await seed(graph, _with_fans(_network((s, hub, 9), (hub, y, 9), (y, t, 9)), hub))

    assert await _intermediaries(graph_client, s, t) == [[hub, y]]
    assert await _intermediaries(graph_client, t, s) == [[y, hub]]


@pytest.mark.usefixtures("small_caps")
@pytest.mark.parametrize("budget", [12, 2])
async def test_link_between_two_hubs_is_found(
    graph: Graph, graph_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    # Each side is one hub of 6 relationships: read whole in the first query (within 2 x
    # 12), or, beyond 2 x 2, tested as a pair in the planned step.
    monkeypatch.setattr(service, "EXPANSION_BUDGET", budget)
    monkeypatch.setattr(service, "WHOLE_SIDE_BUDGET", 2 * budget)
    s, first, second, t = (new_id() for _ in range(4))
    await seed(
        graph,
        _with_fans(_network((s, first, 9), (first, second, 9), (second, t, 9)), first, second),
    )

    assert await _intermediaries(graph_client, s, t) == [[first, second]]
    assert await _intermediaries(graph_client, t, s) == [[second, first]]
    body = await get_json(graph_client, "/internal/v1/degree", source=s, target=t)
    assert body == {"degree": 3}


@pytest.mark.usefixtures("small_caps")
async def test_link_between_two_hubs_beyond_the_pair_cap_is_left_out(
    graph: Graph, graph_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "PAIR_CHECK_CAP", 0)
    # Two sides of 6 relationships each, beyond what one query reads (2 x 2): the
    # planned step, where the pair cap applies.
    monkeypatch.setattr(service, "EXPANSION_BUDGET", 2)
    monkeypatch.setattr(service, "WHOLE_SIDE_BUDGET", 4)
    s, first, second, t = (new_id() for _ in range(4))
    await seed(
        graph,
        _with_fans(_network((s, first, 9), (first, second, 9), (second, t, 9)), first, second),
    )

    body = await get_json(graph_client, "/internal/v1/paths", source=s, target=t)

    assert body == {"degree": None, "paths": []}


async def test_endpoint_keeps_only_its_strongest_connections(
    graph: Graph, graph_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "NEIGHBOUR_CAP", 2)
    s, t, weakest, kept, other = (new_id() for _ in range(5))
    # s has three connections: the weakest one falls outside the cap, and with it the
    # path s-weakest-t that would otherwise be found.
    await seed(
        graph, _network((s, weakest, 3), (s, kept, 8), (s, other, 8), (weakest, t, 9), (kept, t, 9))
    )

    assert await _intermediaries(graph_client, s, t) == [[kept]]


@pytest.mark.usefixtures("small_caps")
@pytest.mark.parametrize(
    ("seed_value", "limit", "private"),
    [(21, 5, False), (22, 3, False), (23, 100, False), (24, 3, True)],
)
async def test_paths_match_brute_force_when_most_members_are_hubs(
    graph: Graph, graph_client: httpx.AsyncClient, seed_value: int, limit: int, private: bool
) -> None:
    # With a hub threshold of 4 most members here are hubs and the expansion budget runs
    # out, so most 3-hop paths are found by the pair check, pruned by the score bound;
    # with privacy settings, consent is applied through the pair check too.
    rng = random.Random(seed_value)
    settings_rng = random.Random(seed_value + 1) if private else None
    network = reference.random_network(rng, members=30, links=110, at=AT, settings_rng=settings_rng)
    await seed(graph, network)
    members = sorted(network.allows)
    # Fewer pairs have a way the source may see when members hide: ask about more.
    pairs = [tuple(rng.sample(members, 2)) for _ in range(90 if private else 30)]
    with_paths = await check_pairs_against_brute_force(
        graph_client,
        network,
        pairs,  # type: ignore[arg-type]
        AT,
        limit=limit,
    )
    assert with_paths > (10 if private else 20)


async def _queries_per_search(
    graph_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, source: str, target: str
) -> tuple[int, list[list[str]]]:
    """How many queries one search of the graph service sent to Neo4j, and its paths."""
    sent: list[str] = []
    read = Graph.read

    async def counted(graph: Graph, cypher: LiteralString, **parameters: Any) -> Any:
        sent.append(cypher)
        return await read(graph, cypher, **parameters)

    monkeypatch.setattr(Graph, "read", counted)
    found = await _intermediaries(graph_client, source, target)
    monkeypatch.setattr(Graph, "read", read)
    return len(sent), found


@pytest.mark.usefixtures("small_caps")
async def test_a_search_within_the_bounds_is_one_query_and_the_planned_step_a_second(
    graph: Graph, graph_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Per-request overhead is most of a search's cost (bench/README.md, "Findings"):
    # both neighbourhoods and the links between them come in one query, unless neither
    # side can be read whole within the budget (here 2 x 2 against 8 and 6
    # relationships): then the planned middle step follows, where the pair cap of 0
    # leaves out the link between the two hubs.
    s, x, y, t = (new_id() for _ in range(4))
    first, second, u = (new_id() for _ in range(3))
    await seed(
        graph,
        _with_fans(
            _network(
                (s, x, 9), (x, y, 9), (y, t, 9),
                (s, first, 8), (first, second, 8), (second, u, 8),
            ),
            first,
            second,
        ),
    )  # fmt: skip

    assert await _queries_per_search(graph_client, monkeypatch, s, t) == (1, [[x, y]])
    assert await _queries_per_search(graph_client, monkeypatch, s, u) == (1, [[first, second]])
    monkeypatch.setattr(service, "PAIR_CHECK_CAP", 0)
    monkeypatch.setattr(service, "EXPANSION_BUDGET", 2)
    monkeypatch.setattr(service, "WHOLE_SIDE_BUDGET", 4)
    assert await _queries_per_search(graph_client, monkeypatch, s, u) == (2, [])
