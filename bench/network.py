"""The generated network read back from its CSV files, compact enough for 2.5M links, to
sample member pairs by distance and to compute introduction paths by brute force."""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Pair:
    source: str
    target: str
    distance: int


@dataclass
class Network:
    ids: list[str]
    index: dict[str, int]
    allows: bytearray  # 1 when the member allows introductions through them
    # Adjacency in compressed rows: member i's links are entries offsets[i]:offsets[i+1].
    offsets: array[int]
    others: array[int]
    links: array[int]
    # Per link: each side's rating of the other (0: unrated) and the pair's last
    # interaction, or when they connected, in epoch milliseconds.
    rating_a: array[int]
    rating_b: array[int]
    since_ms: array[int]
    ends_a: array[int]  # per link, the member whose rating is ``rating_a``

    def rating_by(self, link: int, member: int) -> int:
        """``member``'s own rating on ``link`` (0: unrated)."""
        return self.rating_a[link] if self.ends_a[link] == member else self.rating_b[link]

    def degree(self, member: int) -> int:
        return int(self.offsets[member + 1] - self.offsets[member])

    def neighbours(self, member: int) -> array[int]:
        return self.others[self.offsets[member] : self.offsets[member + 1]]

    def link_ids(self, member: int) -> array[int]:
        return self.links[self.offsets[member] : self.offsets[member + 1]]

    def within_two(self, member: int) -> tuple[set[int], set[int]]:
        """Members at distance 1 and at distance 2."""
        first = set(self.neighbours(member))
        second: set[int] = set()
        for other in first:
            second.update(self.neighbours(other))
        second -= first
        second.discard(member)
        return first, second


def _epoch_ms(text: str) -> int:
    moment = datetime.fromisoformat(text)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return round(moment.timestamp() * 1000)


def load(members_csv: Path, connections_csv: Path) -> Network:
    """Read the plain CSV format as the generator writes it (no quoted fields)."""
    ids: list[str] = []
    allows = bytearray()
    with members_csv.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            member_id, _, _, allowed = line.rstrip("\n").split(",")
            ids.append(member_id)
            allows.append(allowed != "false")
    index = {member_id: i for i, member_id in enumerate(ids)}
    ends_a, ends_b = array("i"), array("i")
    rating_a, rating_b, since_ms = array("b"), array("b"), array("q")
    with connections_csv.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            a, b, r_a, r_b, _, connected, last = line.rstrip("\n").split(",")
            ends_a.append(index[a])
            ends_b.append(index[b])
            rating_a.append(int(r_a) if r_a else 0)
            rating_b.append(int(r_b) if r_b else 0)
            since_ms.append(_epoch_ms(last or connected))
    n = len(ids)
    counts = [0] * (n + 1)
    for end in (ends_a, ends_b):
        for member in end:
            counts[member + 1] += 1
    for i in range(n):
        counts[i + 1] += counts[i]
    offsets = array("q", counts)
    fill = counts[:-1]
    others = array("i", bytes(4 * 2 * len(ends_a)))
    links = array("i", bytes(4 * 2 * len(ends_a)))
    for link, (one, two) in enumerate(zip(ends_a, ends_b, strict=True)):
        others[fill[one]], links[fill[one]] = two, link
        fill[one] += 1
        others[fill[two]], links[fill[two]] = one, link
        fill[two] += 1
    return Network(ids, index, allows, offsets, others, links, rating_a, rating_b, since_ms, ends_a)


def sample_pairs(network: Network, rng: random.Random, per_distance: int) -> list[Pair]:
    """Random pairs at distance 2 (target uniform among the source's distance-2 members)
    and 3 (random targets kept when at distance 3), shuffled together."""
    n = len(network.ids)
    pairs: list[Pair] = []
    found = {2: 0, 3: 0}
    while found[2] < per_distance or found[3] < per_distance:
        source = rng.randrange(n)
        if network.degree(source) == 0:
            continue
        first, second = network.within_two(source)
        if found[2] < per_distance and second:
            target = rng.choice(sorted(second))
            pairs.append(Pair(network.ids[source], network.ids[target], 2))
            found[2] += 1
        if found[3] < per_distance:
            for _ in range(20):
                target = rng.randrange(n)
                if target == source or target in first or target in second:
                    continue
                if any(other in second for other in network.neighbours(target)):
                    pairs.append(Pair(network.ids[source], network.ids[target], 3))
                    found[3] += 1
                    break
    rng.shuffle(pairs)
    return pairs
