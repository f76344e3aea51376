"""An independent, brute-force model of the graph queries, to check the service against.

It shares no code with services/graph or rapport_common.domain.privacy: it enumerates
every 2- and 3-hop path in plain Python from the same data and applies the rules as the
product states them (docs/privacy.md), thresholds and weights written out again.
"""

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

HALF_LIFE_DAYS = 180.0
UNRATED = 5
HOW_WE_MET = ("coffee", "meal", "beer", "event", "worked_together", "known_online", "never_met")
# Every combination of (connections_visible_to, allows_introductions, reachable_by).
SETTINGS = list(
    itertools.product(
        ("everyone", "connections", "only_me"),
        (True, False),
        ("everyone", "second_degree", "nobody"),
    )
)


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
    # Missing: the node has no such property (counts as connections / everyone).
    visible: dict[str, str] = field(default_factory=dict)
    reach: dict[str, str] = field(default_factory=dict)

    def add(self, link: Link) -> None:
        self.links[frozenset((link.a, link.b))] = link

    def without(self, pairs: set[frozenset[str]]) -> "Network":
        kept = {pair: link for pair, link in self.links.items() if pair not in pairs}
        return Network(dict(self.allows), kept, dict(self.visible), dict(self.reach))

    def neighbours(self, member: str) -> set[str]:
        return {other for pair in self.links if member in pair for other in pair - {member}}

    def linked(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.links

    def may_introduce(self, member: str) -> bool:
        """Consent to stand between: allows introductions and does not hide everything."""
        return self.allows.get(member) is not False and self.visible.get(member) != "only_me"

    def max_hops(self, target: str) -> int:
        if self.visible.get(target) == "only_me":
            return 1
        return {"everyone": 3, "second_degree": 2, "nobody": 1}[self.reach.get(target, "everyone")]

    def passes(self, member: str, viewer: str) -> bool:
        """Whether the member's list setting lets the viewer see their side of a link."""
        setting = self.visible.get(member, "connections")
        return setting == "everyone" or (setting == "connections" and self.linked(member, viewer))


@dataclass(frozen=True)
class ExpectedPath:
    intermediaries: tuple[str, ...]
    score: float


def effective(rating: int | None, since: datetime, at: datetime) -> float:
    value = UNRATED if rating is None else rating
    elapsed_ms = max(0, (at - since) // timedelta(milliseconds=1))
    return 1 + (value - 1) * 2 ** (-(elapsed_ms / 86_400_000) / HALF_LIFE_DAYS)


def _since(link: Link) -> datetime:
    return link.last_interaction_at or link.connected_at


def strength(network: Network, a: str, b: str, at: datetime) -> float:
    link = network.links[frozenset((a, b))]
    since = _since(link)
    return min(effective(link.rating_by_a, since, at), effective(link.rating_by_b, since, at)) / 10


def own_strength(network: Network, rater: str, other: str, at: datetime) -> float:
    """The rater's own effective rating of the other, / 10: all a viewer's own link may
    weigh in their ranking."""
    link = network.links[frozenset((rater, other))]
    rating = link.rating_by_a if link.a == rater else link.rating_by_b
    return effective(rating, _since(link), at) / 10


def band(value: float) -> str:
    return "strong" if value >= 0.7 else "good" if value >= 0.5 else "weak"


def weight(value: float) -> float:
    return {"strong": 0.85, "good": 0.6, "weak": 0.3}[band(value)]


def ways(network: Network, source: str, target: str) -> list[tuple[str, ...]]:
    """The intermediaries of every way the source may see to the target: 2 or 3 hops,
    no member twice, every intermediary consenting, no longer than the target allows."""
    found: list[tuple[str, ...]] = []
    longest = network.max_hops(target)
    if longest < 2:
        return found
    for x in network.neighbours(source):
        if x == target or not network.may_introduce(x):
            continue
        near_x = network.neighbours(x)
        if target in near_x:
            found.append((x,))
        if longest < 3:
            continue
        for y in near_x:
            if y in (source, target, x) or not network.may_introduce(y):
                continue
            if target in network.neighbours(y):
                found.append((x, y))
    return found


def path_score(
    network: Network, source: str, target: str, intermediaries: tuple[str, ...], at: datetime
) -> float:
    """The product of the band weights: the first link by the source's own rating."""
    members = (source, *intermediaries, target)
    score = weight(own_strength(network, source, intermediaries[0], at))
    for a, b in pairwise(members[1:]):
        score *= weight(strength(network, a, b, at))
    return round(score, 6)


def degree(network: Network, source: str, target: str) -> int | None:
    """1 if linked, else the fewest hops of a way the source may see, else None."""
    if network.linked(source, target):
        return 1
    hops = [len(way) + 1 for way in ways(network, source, target)]
    return min(hops) if hops else None


def paths(
    network: Network, source: str, target: str, limit: int, at: datetime
) -> tuple[int | None, list[ExpectedPath]]:
    separation = degree(network, source, target)
    if separation == 1:
        return 1, []
    best: dict[str, tuple[float, int, tuple[str, ...]]] = {}
    for intermediaries in ways(network, source, target):
        score = path_score(network, source, target, intermediaries, at)
        rank = (-score, len(intermediaries) + 1, intermediaries)
        first = intermediaries[0]
        if first not in best or rank < best[first]:
            best[first] = rank
    ranked = sorted(best.values())[:limit]
    return separation, [ExpectedPath(ids, -negative) for negative, _, ids in ranked]


def mutuals(network: Network, viewer: str, target: str) -> list[str]:
    """The members of the 2-hop ways the viewer may see to the target."""
    return sorted(way[0] for way in ways(network, viewer, target) if len(way) == 1)


def way_links(network: Network, viewer: str) -> set[frozenset[str]]:
    """Every link on some way the viewer may see, to anyone."""
    found: set[frozenset[str]] = set()
    for target in network.allows:
        if target == viewer:
            continue
        for intermediaries in ways(network, viewer, target):
            found |= {frozenset(pair) for pair in pairwise((viewer, *intermediaries, target))}
    return found


def list_links(network: Network, viewer: str) -> set[frozenset[str]]:
    """Every link whose two ends both let the viewer see it in a list."""
    return {
        pair for pair in network.links if all(network.passes(member, viewer) for member in pair)
    }


def way_hidden(network: Network, viewer: str) -> set[frozenset[str]]:
    """The links the graph must not let the viewer learn: not theirs, on no way."""
    theirs = {pair for pair in network.links if viewer in pair}
    return set(network.links) - theirs - way_links(network, viewer)


def hidden_from(network: Network, viewer: str) -> set[frozenset[str]]:
    """The links no endpoint may let the viewer learn: not on a way, not in a list."""
    return way_hidden(network, viewer) - list_links(network, viewer)


def random_network(
    rng: random.Random,
    members: int,
    links: int,
    at: datetime,
    settings_rng: random.Random | None = None,
) -> Network:
    """With ``settings_rng``, the members take the privacy settings in turn, every
    combination once before any twice; a separate generator, so the links of a seed are
    the same with and without settings."""
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(members)]
    ids = [f"{i[:8]}-{i[8:12]}-4{i[13:16]}-8{i[17:20]}-{i[20:32]}" for i in ids]
    network = Network(
        allows={m: rng.choices([True, False, None], weights=[7, 2, 1])[0] for m in ids}
    )
    if settings_rng is not None:
        combos = SETTINGS * (members // len(SETTINGS) + 1)
        settings_rng.shuffle(combos)
        for member, (visible, allows, reach) in zip(ids, combos, strict=False):
            network.visible[member], network.allows[member] = visible, allows
            network.reach[member] = reach
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
