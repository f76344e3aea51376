"""The stored rank keys (rapport_common/strength.py, "The rank key"): after every kind of
write a ``KNOWS``'s ``since_ms`` and ``rank_key`` are what its other properties give, a
search sorts by them only while no other strength model is recorded, and the one-off
rekey brings a graph without them (or with another model's) up to date."""

from datetime import timedelta
from typing import Any, LiteralString

import httpx
import pytest

from rapport_common.settings import StrengthSettings, get_settings
from rapport_common.strength import epoch_ms, rank_key, rank_parameters
from services.graph.database import Graph
from services.graph.importers.network import load_network
from services.graph.importers.rank_keys import rekey
from services.graph.paths import service
from services.graph.projection.apply import apply_event
from tests.graph.builders import T0, created, get_json, interacted, new_id, rated, seed
from tests.graph.reference import AT, Link, Network

LINKS: LiteralString = """
MATCH (low:Member)-[r:KNOWS]->(high:Member)
RETURN low.member_id AS low, high.member_id AS high, properties(r) AS properties
"""
MODELS: LiteralString = """
MATCH (model:RankModel) RETURN model.half_life_ms AS half_life_ms, model.unrated AS unrated
"""
OTHER_MODEL = StrengthSettings(half_life_days=30.0, unrated_rating=3)


def _expected(properties: dict[str, Any], model: StrengthSettings) -> tuple[int, float]:
    """``since_ms`` and ``rank_key`` as they follow from the other properties."""
    since = properties.get("last_interaction_at") or properties["created_at"]
    since_ms = epoch_ms(since.to_native())
    low, high = properties.get("rating_low"), properties.get("rating_high")
    return since_ms, rank_key(model, low, high, since_ms)


async def _assert_keys_derived(graph: Graph, model: StrengthSettings | None = None) -> int:
    model = model or get_settings().strength
    rows = await graph.read(LINKS)
    for row in rows:
        properties = row["properties"]
        stored = (properties.get("since_ms"), properties.get("rank_key"))
        assert stored == _expected(properties, model), row
    return len(rows)


async def _models(graph: Graph) -> set[tuple[float, int]]:
    return {(row["half_life_ms"], row["unrated"]) for row in await graph.read(MODELS)}


def _model(settings: StrengthSettings) -> tuple[float, int]:
    rank = rank_parameters(settings)
    return rank["half_life_ms"], rank["unrated"]


async def test_the_projection_stores_the_keys_on_every_kind_of_write(graph: Graph) -> None:
    a, b = new_id(), new_id()

    await apply_event(graph, created(1, a, b, inviter_rating=9, connected_at=T0))
    assert await _assert_keys_derived(graph) == 1  # one side unrated
    await apply_event(graph, rated(2, b, a, 3))  # a rating change: the weaker side moves
    assert await _assert_keys_derived(graph) == 1
    await apply_event(graph, interacted(3, a, b, T0 + timedelta(days=40)))  # a meeting
    assert await _assert_keys_derived(graph) == 1
    await apply_event(graph, rated(4, a, b, 1))  # the floor: rank 0 at any age
    assert await _assert_keys_derived(graph) == 1

    [row] = await graph.read(LINKS)
    assert row["properties"]["since_ms"] == epoch_ms(T0 + timedelta(days=40))
    assert await _models(graph) == {_model(get_settings().strength)}


async def test_imports_store_the_keys_on_new_and_updated_connections(graph: Graph) -> None:
    a, b, c = sorted(new_id() for _ in range(3))
    created_ms = epoch_ms(T0)

    await load_network(
        graph, [], [[a, b, 4, None, "event", created_ms, None], [a, c, 7, 8, "event", 1, 5]]
    )
    assert await _assert_keys_derived(graph) == 2
    # Into a graph with connections (the MERGE way): the keys follow the new values.
    await load_network(graph, [], [[a, b, 2, 10, "event", created_ms, created_ms + 9]])
    assert await _assert_keys_derived(graph) == 2
    assert await _models(graph) == {_model(get_settings().strength)}


async def test_rekey_fills_a_graph_without_keys_and_forgets_other_models(graph: Graph) -> None:
    ids = sorted(new_id() for _ in range(5))
    rows = [
        [ids[i], ids[j], i + 2, None, "event", epoch_ms(T0) - i * 1000, None]
        for i in range(5)
        for j in range(i + 1, 5)
    ]
    await load_network(graph, [], rows)
    # As a graph from before the keys, with a model recorded that is not the settings'.
    await graph.write("MATCH ()-[r:KNOWS]->() REMOVE r.since_ms, r.rank_key")
    await graph.write("CREATE (:RankModel {half_life_ms: 1.0, unrated: 2})")

    keyed = await rekey(graph, get_settings().strength, page=2)

    assert keyed == 10
    assert await _assert_keys_derived(graph) == 10
    assert await _models(graph) == {_model(get_settings().strength)}
    # For another model: every key rewritten, and only that model recorded.
    assert await rekey(graph, OTHER_MODEL) == 10
    await _assert_keys_derived(graph, OTHER_MODEL)
    assert await _models(graph) == {_model(OTHER_MODEL)}


async def _kept(client: httpx.AsyncClient, source: str, target: str) -> list[list[str]]:
    body = await get_json(
        client, "/internal/v1/paths", source=source, target=target, at=AT.isoformat()
    )
    return [path["intermediaries"] for path in body["paths"]]


async def test_a_search_sorts_by_the_stored_keys_only_of_its_own_model(
    graph: Graph, graph_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "NEIGHBOUR_CAP", 2)
    s, t, weak, kept, other = (new_id() for _ in range(5))
    network = Network()
    for member in (s, t, weak, kept, other):
        network.allows[member] = True
    links = ((s, weak, 3), (s, kept, 8), (s, other, 8), (weak, t, 9), (kept, t, 9))
    for a, b, rating in links:
        network.add(Link(a, b, rating, rating, "coffee", AT))
    await seed(graph, network)
    assert await _kept(graph_client, s, t) == [[kept]]  # s keeps its two strongest links

    # Keys that claim otherwise: a search that sorts by them keeps the weak link.
    await graph.write(
        "MATCH (:Member {member_id: $s})-[r:KNOWS]-(o) SET r.rank_key = "
        "CASE o.member_id WHEN $weak THEN 1.0e9 WHEN $kept THEN 1.0e8 ELSE -1.0e9 END",
        s=s,
        weak=weak,
        kept=kept,
    )
    assert await _kept(graph_client, s, t) == [[kept], [weak]]
    # Once another model is recorded, stored keys are not trusted: back to the inputs.
    await graph.write("CREATE (:RankModel {half_life_ms: 1.0, unrated: 2})")
    assert await _kept(graph_client, s, t) == [[kept]]
    # A search at a moment before the links' ``since`` ranks them from their inputs too.
    await graph.write("MATCH (model:RankModel {half_life_ms: 1.0}) DELETE model")
    assert await _kept(graph_client, s, t) == [[kept], [weak]]
    before = (AT - timedelta(days=3650)).isoformat()
    body = await get_json(graph_client, "/internal/v1/paths", source=s, target=t, at=before)
    assert [path["intermediaries"] for path in body["paths"]] == [[kept]]
