"""Every 2- and 3-hop introduction path between two members, enumerated in plain Python
from the generated data and scored with ``rapport_common/strength.py``, to check the
graph service's answers (README, "The strength model"; docs/privacy.md; the rules of
``services/graph/paths/search.py`` as the product states them: intermediaries allow
introductions, nobody twice, the best path per first intermediary, by the product of the
links' band weights with the source's own rating on its first link, then fewer hops, then
ids; the degree counts only such ways). The generated members keep the default privacy
settings, so consent is ``allows_introductions``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.network import Network
from rapport_common.settings import StrengthSettings
from rapport_common.strength import band, days_since, effective_rating, link_strength

# The weights of docs/privacy.md, written out again rather than imported.
BAND_WEIGHTS = {"strong": 0.85, "good": 0.6, "weak": 0.3}
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Expected:
    degree: int | None
    paths: list[tuple[tuple[str, ...], float]]


@dataclass
class Checked:
    pairs: int = 0
    identical: int = 0
    equal_up_to_rounding: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)


class Strengths:
    def __init__(self, network: Network, settings: StrengthSettings, at: datetime) -> None:
        self.network, self.settings, self.at = network, settings, at
        self.cache: dict[int, float] = {}

    def _days(self, link: int) -> float:
        since = datetime.fromtimestamp(self.network.since_ms[link] / 1000, UTC)
        return days_since(since, self.at)

    def __call__(self, link: int) -> float:
        """The band weight of the link's strength (its weaker side)."""
        value = self.cache.get(link)
        if value is None:
            net = self.network
            value = BAND_WEIGHTS[
                band(
                    link_strength(
                        self.settings,
                        net.rating_a[link] or None,
                        net.rating_b[link] or None,
                        self._days(link),
                    )
                )
            ]
            self.cache[link] = value
        return value

    def own(self, link: int, member: int) -> float:
        """The band weight of ``member``'s own effective rating on the link."""
        rating = self.network.rating_by(link, member) or None
        return BAND_WEIGHTS[band(effective_rating(self.settings, rating, self._days(link)) / 10)]


def expected_paths(
    network: Network, strengths: Strengths, source_id: str, target_id: str, limit: int
) -> Expected:
    s, t = network.index[source_id], network.index[target_id]
    near_target = dict(zip(network.neighbours(t), network.link_ids(t), strict=True))
    if s in near_target:
        return Expected(1, [])
    best: dict[int, tuple[float, int, tuple[str, ...]]] = {}
    reached = 0
    for x, sx in zip(network.neighbours(s), network.link_ids(s), strict=True):
        if x == t or not network.allows[x]:
            continue
        x_links = dict(zip(network.neighbours(x), network.link_ids(x), strict=True))
        first = strengths.own(sx, s)
        candidates: list[tuple[float, int, tuple[str, ...]]] = []
        if t in x_links:
            reached = 2
            score = round(first * strengths(x_links[t]), 6)
            candidates.append((-score, 2, (network.ids[x],)))
        for y, xy in x_links.items():
            ty = near_target.get(y)
            if ty is None or y in (s, t) or not network.allows[y]:
                continue
            reached = reached or 3
            score = round(first * strengths(xy) * strengths(ty), 6)
            candidates.append((-score, 3, (network.ids[x], network.ids[y])))
        if candidates:
            best[x] = min(candidates)
    ranked = sorted(best.values())[:limit]
    return Expected(reached or None, [(ids, -negative) for negative, _, ids in ranked])


def compare(expected: Expected, answer: dict[str, Any]) -> str | None:
    """None when they agree (scores within TOLERANCE, order free among equal scores);
    otherwise what differs."""
    got = [(tuple(p["intermediaries"]), float(p["score"])) for p in answer["paths"]]
    if answer["degree"] != expected.degree:
        return f"degree {answer['degree']} instead of {expected.degree}"
    if len(got) != len(expected.paths):
        return f"{len(got)} paths instead of {len(expected.paths)}"
    for rank, ((_, want), (_, have)) in enumerate(zip(expected.paths, got, strict=True)):
        if abs(want - have) > TOLERANCE:
            return f"path {rank + 1} scores {have:.6f} instead of {want:.6f}"
    # Equal scores may come in either order; the paths with each score must match.
    if sorted(expected.paths) != sorted(got) and _grouped(expected.paths) != _grouped(got):
        return "different intermediaries for the same scores"
    return None


def _grouped(paths: list[tuple[tuple[str, ...], float]]) -> list[set[tuple[str, ...]]]:
    groups: list[set[tuple[str, ...]]] = []
    last: float | None = None
    for ids, score in paths:
        if last is None or abs(score - last) > TOLERANCE:
            groups.append(set())
        groups[-1].add(ids)
        last = score
    return groups


def identical(expected: Expected, answer: dict[str, Any]) -> bool:
    got = [(tuple(p["intermediaries"]), float(p["score"])) for p in answer["paths"]]
    return answer["degree"] == expected.degree and got == expected.paths
