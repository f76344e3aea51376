"""The paths and degree endpoints against a brute-force enumeration of the same data."""

import math
import random
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from services.graph.database import Graph
from services.graph.importers.ldbc import import_ldbc, member_id
from tests.graph import reference
from tests.graph.builders import check_pairs_against_brute_force, seed
from tests.graph.reference import Link, Network

# shared/ sits beside the checkout, in development and in CI alike.
LDBC_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "ldbc-sf0.003"
LDBC_AT = datetime(2013, 1, 1, tzinfo=UTC)


def _ldbc_network() -> Network:
    """The sample as the importer's documented mapping says it should land."""
    network = Network()
    with (LDBC_SAMPLE / "person_0_0.csv").open() as persons:
        for line in list(persons)[1:]:
            network.allows[member_id(line.split("|")[0])] = True
    counts = {}
    with (LDBC_SAMPLE / "derived_knows_weighted.csv").open() as weighted:
        for line in list(weighted)[1:]:
            first, second, _, interactions, *_ = line.split("|")
            counts[frozenset((first, second))] = int(interactions)
    with (LDBC_SAMPLE / "person_knows_person_0_0.csv").open() as knows:
        for line in list(knows)[1:]:
            first, second, created_ms = line.strip().split("|")
            n = counts[frozenset((first, second))]
            rating = min(10, 1 + int(3 * math.log2(1 + n) + 0.5))
            connected_at = datetime.fromtimestamp(0, UTC) + (
                datetime.fromtimestamp(int(created_ms) // 1000, UTC)
                - datetime.fromtimestamp(0, UTC)
            )
            connected_at = connected_at.replace(microsecond=int(created_ms) % 1000 * 1000)
            network.add(
                Link(
                    member_id(first),
                    member_id(second),
                    rating,
                    rating,
                    "known_online",
                    connected_at,
                )
            )
    return network


@pytest.mark.parametrize("seed_value", [1, 2, 3, 4, 5])
async def test_paths_on_random_networks_match_brute_force(
    graph: Graph, graph_client: httpx.AsyncClient, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    network = reference.random_network(rng, members=40, links=110, at=reference.AT)
    await seed(graph, network)
    members = sorted(network.allows)
    pairs = [tuple(rng.sample(members, 2)) for _ in range(40)]
    assert await check_pairs_against_brute_force(graph_client, network, pairs, reference.AT) > 10  # type: ignore[arg-type]


@pytest.mark.parametrize("seed_value", [41, 42, 43])
async def test_paths_match_brute_force_with_privacy_settings(
    graph: Graph, graph_client: httpx.AsyncClient, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    network = reference.random_network(
        rng, members=40, links=110, at=reference.AT, settings_rng=random.Random(seed_value + 1)
    )
    await seed(graph, network)
    members = sorted(network.allows)
    # Fewer pairs have a way the source may see when members hide: ask about more.
    pairs = [tuple(rng.sample(members, 2)) for _ in range(120)]
    assert await check_pairs_against_brute_force(graph_client, network, pairs, reference.AT) > 10  # type: ignore[arg-type]


async def test_paths_with_a_small_limit_keep_the_top_of_the_ranking(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    rng = random.Random(11)
    network = reference.random_network(rng, members=30, links=110, at=reference.AT)
    await seed(graph, network)
    members = sorted(network.allows)
    unlinked = [
        (a, b) for a in members for b in members if a < b and frozenset((a, b)) not in network.links
    ]
    pairs = rng.sample(unlinked, 40)
    truncated = sum(len(reference.paths(network, a, b, 100, reference.AT)[1]) > 3 for a, b in pairs)
    assert truncated > 10
    await check_pairs_against_brute_force(graph_client, network, pairs, reference.AT, limit=3)


async def test_paths_on_the_ldbc_sample_match_brute_force(
    graph: Graph, graph_client: httpx.AsyncClient
) -> None:
    await import_ldbc(graph, LDBC_SAMPLE)
    network = _ldbc_network()
    rng = random.Random(7)
    members = sorted(network.allows)
    pairs = [(member_id("8796093022357"), member_id("8796093022390"))]
    pairs += [tuple(rng.sample(members, 2)) for _ in range(120)]  # type: ignore[misc]
    assert (
        await check_pairs_against_brute_force(graph_client, network, pairs, LDBC_AT, limit=20) > 30
    )
