"""The strength formula has one definition (rapport_common/strength.py): the Cypher
fragments the graph queries are built from compute, in the real Neo4j, what the Python
functions compute."""

from datetime import timedelta
from itertools import product
from typing import LiteralString

import pytest

from rapport_common.settings import StrengthSettings
from rapport_common.strength import (
    cypher_decay,
    cypher_link_inputs,
    cypher_parameters,
    cypher_rank,
    cypher_rank_order,
    cypher_store_rank,
    cypher_weaker,
    days_between,
    days_since,
    effective_rating,
    epoch_ms,
    link_strength,
    rank_key,
    rank_parameters,
    weaker_side_strength,
)
from services.graph.database import Graph
from tests.graph.builders import T0, new_id

RATINGS = (None, 1, 5, 10)
MODELS = (StrengthSettings(), StrengthSettings(half_life_days=30.0, unrated_rating=3))
# Ages in half-lives; a negative one puts ``at`` before the link's last interaction.
AGES = (0, 1, 3, -0.5)
LAST_INTERACTION = T0 + timedelta(days=7)

SEED: LiteralString = """
UNWIND $links AS link
CREATE (:Member {member_id: link.low})-[r:KNOWS]->(:Member {member_id: link.high})
SET r.rating_low = link.rating_low, r.rating_high = link.rating_high,
    r.created_at = link.created_at, r.last_interaction_at = link.last_interaction_at
"""

# Every fragment, as the queries compose them, over every link.
EVALUATE: LiteralString = (
    """
MATCH (low:Member)-[r:KNOWS]->(:Member)
WITH low.member_id AS link, """
    + cypher_link_inputs("r", "a", "b", "since_ms")
    + """
WITH link, since_ms, """
    + cypher_weaker("a", "b")
    + """ AS weaker
RETURN link, weaker, since_ms, """
    + cypher_decay("since_ms")
    + """ AS decay, (1 + """
    + cypher_rank("weaker", "since_ms")
    + """) / 10.0 AS strength
"""
)


async def _seed(graph: Graph) -> dict[str, tuple[int | None, int | None, bool]]:
    """One link per pair of ratings, with and without a logged interaction."""
    links = {}
    rows = []
    for (rating_low, rating_high), interacted in product(product(RATINGS, RATINGS), (False, True)):
        low = new_id()
        links[low] = (rating_low, rating_high, interacted)
        rows.append(
            {
                "low": low,
                "high": new_id(),
                "rating_low": rating_low,
                "rating_high": rating_high,
                "created_at": T0,
                "last_interaction_at": LAST_INTERACTION if interacted else None,
            }
        )
    await graph.write(SEED, links=rows)
    return links


@pytest.mark.parametrize("model", MODELS, ids=("default", "short-half-life"))
@pytest.mark.parametrize("half_lives", AGES)
async def test_cypher_fragments_compute_the_python_strength(
    graph: Graph, model: StrengthSettings, half_lives: float
) -> None:
    links = await _seed(graph)
    at_ms = epoch_ms(LAST_INTERACTION + timedelta(days=half_lives * model.half_life_days))

    rows = await graph.read(EVALUATE, **cypher_parameters(model, at_ms))

    assert len(rows) == len(links)
    for row in rows:
        rating_low, rating_high, interacted = links[row["link"]]
        since_ms = epoch_ms(LAST_INTERACTION if interacted else T0)
        days = days_between(since_ms, at_ms)
        strength = link_strength(model, rating_low, rating_high, days)
        assert row["since_ms"] == since_ms
        # A rating of 2 is 1 above the floor, so it fades by exactly the decay.
        assert row["decay"] == pytest.approx(effective_rating(model, 2, days) - 1, rel=1e-12)
        assert row["strength"] == pytest.approx(strength, rel=1e-12)
        assert weaker_side_strength(model, row["weaker"], days) == strength


def test_a_link_is_as_strong_as_its_weaker_side() -> None:
    model = StrengthSettings()

    def counted(rating: int | None) -> int:
        return model.unrated_rating if rating is None else rating

    for a, b, days in product(RATINGS, RATINGS, (0.0, 180.0, 540.0)):
        weaker = min(counted(a), counted(b))
        assert link_strength(model, a, b, days) == weaker_side_strength(model, weaker, days)


def test_days_since_and_days_between_count_the_same_age() -> None:
    later = T0 + timedelta(days=200, hours=5, milliseconds=250)

    assert days_since(T0, later) == days_between(epoch_ms(T0), epoch_ms(later))
    assert days_since(T0, later) == pytest.approx(200 + 5 / 24 + 0.25 / 86_400)
    assert days_since(later, T0) == days_between(epoch_ms(later), epoch_ms(T0)) == 0


# The stored rank key as the writers store it, and the sort key a search reads, with the
# stored key (keyed) and without (a graph from before the keys, or another model).
STORE_KEYS: LiteralString = "MATCH ()-[r:KNOWS]->() SET " + cypher_store_rank("r")
RANK_ORDER: LiteralString = (
    """
MATCH (low:Member)-[r:KNOWS]->(:Member)
RETURN low.member_id AS link, r.since_ms AS since_ms, r.rank_key AS rank_key, """
    + cypher_rank_order("r", "true")
    + """ AS keyed_order, """
    + cypher_rank_order("r", "false")
    + """ AS unkeyed_order
"""
)


@pytest.mark.parametrize("model", MODELS, ids=("default", "short-half-life"))
@pytest.mark.parametrize("half_lives", AGES)
async def test_rank_keys_sort_as_the_python_strength(
    graph: Graph, model: StrengthSettings, half_lives: float
) -> None:
    links = await _seed(graph)
    at_ms = epoch_ms(LAST_INTERACTION + timedelta(days=half_lives * model.half_life_days))
    await graph.write(STORE_KEYS, **rank_parameters(model))

    rows = await graph.read(RANK_ORDER, **cypher_parameters(model, at_ms))

    strengths, orders = {}, {}
    for row in rows:
        rating_low, rating_high, interacted = links[row["link"]]
        since_ms = epoch_ms(LAST_INTERACTION if interacted else T0)
        # Stored exactly as Python computes it; sorted by it at ``at`` (a link whose
        # ``since`` is after ``at`` ranks as new), stored or not, to the same value.
        assert row["since_ms"] == since_ms
        assert row["rank_key"] == rank_key(model, rating_low, rating_high, since_ms)
        clamped = rank_key(model, rating_low, rating_high, min(since_ms, at_ms))
        assert row["keyed_order"] == row["unkeyed_order"] == clamped
        days = days_between(since_ms, at_ms)
        strengths[row["link"]] = link_strength(model, rating_low, rating_high, days)
        orders[row["link"]] = clamped
    # The key orders the links as their strengths do, ties included.
    ranked = sorted(strengths, key=lambda link: (-round(strengths[link], 9), link))
    assert ranked == sorted(orders, key=lambda link: (-orders[link], link))
