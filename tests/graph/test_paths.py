"""Introduction paths, mutual connections and degree: the rules, one at a time."""

import itertools

import httpx
import pytest

from services.graph.database import Graph
from tests.graph.builders import get_json, new_id, seed
from tests.graph.reference import AT, Link, Network


def _network(*links: tuple[str, str, int], refusing: tuple[str, ...] = ()) -> Network:
    """Links rated the same by both sides and dated at AT, so strength = rating / 10."""
    network = Network()
    for a, b, rating in links:
        for member in (a, b):
            network.allows[member] = member not in refusing
        network.add(Link(a, b, rating, rating, "coffee", AT))
    return network


async def _paths(
    client: httpx.AsyncClient, source: str, target: str, **params: object
) -> dict[str, object]:
    body: dict[str, object] = await get_json(
        client, "/internal/v1/paths", source=source, target=target, at=AT.isoformat(), **params
    )
    return body


def _intermediaries(body: dict[str, object]) -> list[list[str]]:
    paths = body["paths"]
    assert isinstance(paths, list)
    return [path["intermediaries"] for path in paths]


async def test_direct_connection_has_degree_one_and_no_paths(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, x, t = new_id(), new_id(), new_id()
    await seed(graph, _network((s, t, 5), (s, x, 9), (x, t, 9)))

    assert await _paths(graph_client, s, t) == {"degree": 1, "paths": []}


async def test_paths_never_pass_through_members_who_refuse_introductions(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, t, private, open_, private_far = (new_id() for _ in range(5))
    await seed(
        graph,
        _network(
            (s, private, 10), (private, t, 10),
            (s, open_, 6), (open_, private_far, 10), (private_far, t, 10),
            (open_, t, 5),
            refusing=(private, private_far),
        ),
    )  # fmt: skip

    body = await _paths(graph_client, s, t)

    assert _intermediaries(body) == [[open_]]
    assert body["degree"] == 2


async def test_member_without_the_flag_counts_as_allowing_introductions(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, x, t = new_id(), new_id(), new_id()
    network = _network((s, x, 8), (x, t, 8))
    network.allows[x] = None
    await seed(graph, network)

    assert _intermediaries(await _paths(graph_client, s, t)) == [[x]]


async def test_only_the_best_path_per_first_intermediary_is_kept(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, x, y, t = (new_id() for _ in range(4))
    # By band weights: s-x-t scores 0.85 * 0.3; s-x-y-t scores 0.85 ** 3.
    await seed(graph, _network((s, x, 9), (x, t, 2), (x, y, 9), (y, t, 9)))

    body = await _paths(graph_client, s, t)

    assert _intermediaries(body) == [[x, y]]
    paths = body["paths"]
    assert isinstance(paths, list)
    assert paths[0]["hops"] == 3 and paths[0]["score"] == pytest.approx(0.85**3)
    assert [(link["from"], link["to"], link["band"]) for link in paths[0]["links"]] == [
        (s, x, "strong"), (x, y, "strong"), (y, t, "strong"),
    ]  # fmt: skip


async def test_paths_rank_by_score_then_fewer_hops_then_ids(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, t = new_id(), new_id()
    a, b = sorted((new_id(), new_id()))
    c, d, e, w = new_id(), new_id(), new_id(), new_id()
    await seed(
        graph,
        _network(
            (s, b, 6), (b, t, 5),  # good, good: 0.36, 2 hops
            (s, a, 6), (a, t, 5),  # 0.36, 2 hops, lower id
            (s, c, 10), (c, d, 6), (d, t, 5),  # strong, good, good: 0.306
            (s, e, 7), (e, t, 7),  # strong, strong: 0.7225
            (s, w, 10), (w, t, 2),  # strong, weak: 0.255
        ),
    )  # fmt: skip

    body = await _paths(graph_client, s, t)

    assert _intermediaries(body) == [[e], [a], [b], [c, d], [w]]
    paths = body["paths"]
    assert isinstance(paths, list)
    assert [[link["band"] for link in path["links"]] for path in paths] == [
        ["strong", "strong"],
        ["good", "good"],
        ["good", "good"],
        ["strong", "good", "good"],
        ["strong", "weak"],
    ]


async def test_limit_caps_the_number_of_paths(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, t, middles = new_id(), new_id(), [new_id() for _ in range(4)]
    await seed(
        graph,
        # 2 and 4 are weak, 6 good, 8 strong: the kept two differ in band.
        _network(
            *((s, m, 2 + 2 * i) for i, m in enumerate(middles)), *((m, t, 9) for m in middles)
        ),
    )

    body = await _paths(graph_client, s, t, limit=2)

    assert _intermediaries(body) == [[middles[3]], [middles[2]]]


async def test_target_beyond_three_hops_has_no_degree(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    chain = [new_id() for _ in range(5)]
    await seed(graph, _network(*((a, b, 8) for a, b in itertools.pairwise(chain))))

    assert await _paths(graph_client, chain[0], chain[4]) == {"degree": None, "paths": []}
    assert (await _paths(graph_client, chain[0], chain[3]))["degree"] == 3


async def test_degree_counts_only_ways_through_consenting_members(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    s, x, y, t = (new_id() for _ in range(4))
    await seed(graph, _network((s, x, 8), (x, y, 8), (y, t, 8), refusing=(y,)))

    body = await get_json(graph_client, "/internal/v1/degree", source=s, target=t)

    assert body == {"degree": None}
    assert await _paths(graph_client, s, t) == {"degree": None, "paths": []}


async def test_unknown_members_have_no_degree(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    assert await _paths(graph_client, new_id(), new_id()) == {"degree": None, "paths": []}


@pytest.mark.parametrize(
    "params",
    [
        {"source": "same", "target": "same"},
        {"source": "not-a-uuid", "target": "x"},
        {"source": "x", "target": "y", "limit": 0},
        {"source": "x", "target": "y", "limit": 101},
    ],
)
async def test_invalid_path_query_is_422(
    graph_client: httpx.AsyncClient, params: dict[str, str | int]
) -> None:
    ids = {"same": new_id(), "x": new_id(), "y": new_id()}
    query = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in params.items()}

    response = await graph_client.get("/internal/v1/paths", params=query)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_mutuals_rank_by_band_with_the_other_member_and_show_my_own_side(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    me, other, only_mine = new_id(), new_id(), new_id()
    best, worst = new_id(), new_id()
    await seed(
        graph,
        _network(
            (me, best, 3), (best, other, 9),
            (me, worst, 9), (worst, other, 3),
            (me, only_mine, 9),
        ),
    )  # fmt: skip

    body = await get_json(
        graph_client, "/internal/v1/mutuals", member_id=me, other_id=other, at=AT.isoformat()
    )

    assert body["mutuals"] == [
        {"member_id": best, "my_strength": pytest.approx(0.3), "band_with_other": "strong"},
        {"member_id": worst, "my_strength": pytest.approx(0.9), "band_with_other": "weak"},
    ]


async def test_mutuals_are_the_same_whichever_member_has_more_connections(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    hub, small, shared = new_id(), new_id(), new_id()
    await seed(
        graph,
        _network((hub, shared, 7), (small, shared, 4), *((hub, new_id(), 5) for _ in range(20))),
    )

    url, at = "/internal/v1/mutuals", AT.isoformat()
    from_hub = await get_json(graph_client, url, member_id=hub, other_id=small, at=at)
    from_small = await get_json(graph_client, url, member_id=small, other_id=hub, at=at)

    assert from_hub["mutuals"] == [
        {"member_id": shared, "my_strength": pytest.approx(0.7), "band_with_other": "weak"}
    ]
    assert from_small["mutuals"] == [
        {"member_id": shared, "my_strength": pytest.approx(0.4), "band_with_other": "strong"}
    ]
