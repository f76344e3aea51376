"""An independent, brute-force model of the graph queries, to check the service against.

It shares no code with services/graph: it enumerates every 2- and 3-hop path in plain
Python from the same data and applies the rules as the product states them.
"""

import random
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

HALF_LIFE_DAYS = 180.0
UNRATED = 5
HOW_WE_MET = ("coffee", "meal", "beer", "event", "worked_together", "known_online", "never_met")


@dataclass(frozen=True)
class Link:
    a: str
    b: str
    rating_by_a: int | None  # a's private rating of b
    rating_by_b: int | None
    how_we_met: str
    connected_at: datetime
    last_interaction_at: datetime | None = None


@dataclass
class Network:
    # None: the member node has no allows_introductions property (counts as allowing).
    allows: dict[str, bool | None] = field(default_factory=dict)
    links: dict[frozenset[str], Link] = field(default_factory=dict)

    def add(self, link: Link) -> None:
        self.links[frozenset((link.a, link.b))] = link

    def neighbours(self, member: str) -> set[str]:
        return {other for pair in self.links if member in pair for other in pair - {member}}

    def may_introduce(self, member: str) -> bool:
        return self.allows.get(member) is not False


@dataclass(frozen=True)
class ExpectedPath:
    intermediaries: tuple[str, ...]
    score: float


def effective(rating: int | None, since: datetime, at: datetime) -> float:
    value = UNRATED if rating is None else rating
    elapsed_ms = max(0, (at - since) // timedelta(milliseconds=1))
    return 1 + (value - 1) * 2 ** (-(elapsed_ms / 86_400_000) / HALF_LIFE_DAYS)


def strength(network: Network, a: str, b: str, at: datetime) -> float:
    link = network.links[frozenset((a, b))]
    since = link.last_interaction_at or link.connected_at
    return min(effective(link.rating_by_a, since, at), effective(link.rating_by_b, since, at)) / 10


def path_score(
    network: Network, source: str, target: str, intermediaries: tuple[str, ...], at: datetime
) -> float | None:
    """The score of one given path, or None if it is not a valid introduction path."""
    members = (source, *intermediaries, target)
    if len(set(members)) != len(members) or not all(map(network.may_introduce, intermediaries)):
        return None
    score = 1.0
    for a, b in pairwise(members):
        if frozenset((a, b)) not in network.links:
            return None
        score *= strength(network, a, b, at)
    return score


def degree(network: Network, source: str, target: str) -> int | None:
    distance = {source: 0}
    queue = deque([source])
    while queue:
        member = queue.popleft()
        if distance[member] == 3:
            continue
        for other in network.neighbours(member):
            if other not in distance:
                distance[other] = distance[member] + 1
                queue.append(other)
    return distance.get(target)


def paths(
    network: Network, source: str, target: str, limit: int, at: datetime
) -> tuple[int | None, list[ExpectedPath]]:
    separation = degree(network, source, target)
    if separation == 1:
        return 1, []
    found: list[tuple[tuple[str, ...], float]] = []
    for x in network.neighbours(source):
        if x == target or not network.may_introduce(x):
            continue
        near_x = network.neighbours(x)
        if target in near_x:
            found.append(
                ((x,), strength(network, source, x, at) * strength(network, x, target, at))
            )
        for y in near_x:
            if y in (source, target, x) or not network.may_introduce(y):
                continue
            if target in network.neighbours(y):
                score = (
                    strength(network, source, x, at)
                    * strength(network, x, y, at)
                    * strength(network, y, target, at)
                )
                found.append(((x, y), score))
    best: dict[str, tuple[float, int, tuple[str, ...]]] = {}
    for intermediaries, score in found:
        rank = (-score, len(intermediaries) + 1, intermediaries)
        first = intermediaries[0]
        if first not in best or rank < best[first]:
            best[first] = rank
    ranked = sorted(best.values())[:limit]
    return separation, [ExpectedPath(ids, -negative) for negative, _, ids in ranked]


def random_network(rng: random.Random, members: int, links: int, at: datetime) -> Network:
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(members)]
    ids = [f"{i[:8]}-{i[8:12]}-4{i[13:16]}-8{i[17:20]}-{i[20:32]}" for i in ids]
    network = Network(
        allows={m: rng.choices([True, False, None], weights=[7, 2, 1])[0] for m in ids}
    )
    while len(network.links) < links:
        a, b = rng.sample(ids, 2)
        connected_at = at - timedelta(seconds=rng.randrange(0, 800 * 86_400))
        interaction = None
        if rng.random() < 0.5:
            interaction = connected_at + timedelta(seconds=rng.randrange(0, 86_400 * 400))
        network.add(
            Link(
                a,
                b,
                rng.choice([None, *range(1, 11)]),
                rng.choice([None, *range(1, 11)]),
                rng.choice(HOW_WE_MET),
                connected_at,
                interaction,
            )
        )
    return network


AT = datetime(2026, 6, 1, tzinfo=UTC)
