"""Loads persons and ``knows`` edges from LDBC SNB CSV files (``|``-separated).

Each person becomes a member whose id is a UUID5 of the LDBC id in a fixed namespace,
so a rerun writes the same nodes. Ratings come from ``derived_knows_weighted.csv`` when
it is there (both sides get the same rating: the count covers both directions):
``rating = min(10, 1 + round_half_up(3 * log2(1 + interactions)))``, so no interaction
rates 1, one rates 4, three rate 7 and seven or more rate 10. Without that file both
sides are unrated. Every edge counts as met online (``known_online``), dated by the
edge's ``creationDate``; LDBC has no interaction dates, so none is set.
"""

import csv
import math
import uuid
from collections.abc import Iterator
from pathlib import Path

from services.graph.database import Graph
from services.graph.importers.network import load_network
from services.graph.importers.writer import BATCH_SIZE, Loaded, Row
from services.graph.projection.pair_state import ordered

LDBC_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://rapport.example/import/ldbc-snb")
PERSONS = "person_0_0.csv"
KNOWS = "person_knows_person_0_0.csv"
WEIGHTED_KNOWS = "derived_knows_weighted.csv"


def member_id(ldbc_id: str) -> str:
    return str(uuid.uuid5(LDBC_NAMESPACE, f"person:{ldbc_id}"))


def rating_for(interactions: int) -> int:
    return min(10, 1 + math.floor(3 * math.log2(1 + interactions) + 0.5))


def _rows(path: Path) -> Iterator[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="|")
        next(reader, None)  # the header
        yield from reader


def _persons(directory: Path) -> Iterator[Row]:
    for row in _rows(directory / PERSONS):
        yield [member_id(row[0]), f"{row[1]} {row[2]}".strip(), False, True]


def _interaction_counts(directory: Path) -> dict[frozenset[str], int] | None:
    path = directory / WEIGHTED_KNOWS
    if not path.exists():
        return None
    return {frozenset(row[:2]): int(row[3]) for row in _rows(path)}


def _knows(directory: Path) -> Iterator[Row]:
    counts = _interaction_counts(directory)
    for first, second, created_ms, *_ in _rows(directory / KNOWS):
        rating = None
        if counts is not None:
            rating = rating_for(counts.get(frozenset((first, second)), 0))
        low_id, high_id = ordered(member_id(first), member_id(second))
        yield [low_id, high_id, rating, rating, "known_online", int(created_ms), None]


async def import_ldbc(graph: Graph, directory: Path, batch_size: int = BATCH_SIZE) -> list[Loaded]:
    """Safe to rerun (see ``network.load_network``)."""
    for name in (PERSONS, KNOWS):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory / name} is missing (see docs/graph.md)")
    return await load_network(graph, _persons(directory), _knows(directory), batch_size)
