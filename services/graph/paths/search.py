"""Ranking introduction paths from the two neighbourhoods and the links between them.

Pure functions over what the queries returned, so the rules (privacy, one path per
first intermediary, the ranking) read in one place and are tested without a database.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Neighbour:
    member_id: str
    element_id: str
    allows_introductions: bool
    strength: float  # of the link to the endpoint whose neighbourhood this is
    degree: int


@dataclass(frozen=True)
class MiddleLink:
    """A link between a source-side neighbour and a target-side neighbour."""

    source_side: str
    target_side: str
    strength: float


@dataclass(frozen=True)
class FoundPath:
    intermediaries: tuple[str, ...]
    # (from, to, strength) in path order: source -> ... -> target.
    links: tuple[tuple[str, str, float], ...]
    score: float

    @property
    def rank(self) -> tuple[float, int, tuple[str, ...]]:
        return (-self.score, len(self.links), self.intermediaries)


def _product(links: Iterable[tuple[str, str, float]]) -> float:
    score = 1.0
    for _, _, strength in links:
        score *= strength
    return score


def _path(*links: tuple[str, str, float]) -> FoundPath:
    return FoundPath(tuple(link[1] for link in links[:-1]), links, _product(links))


def can_introduce(neighbour: Neighbour, source: str, target: str) -> bool:
    """Whether ``neighbour`` may stand in the middle of a path from source to target."""
    return neighbour.allows_introductions and neighbour.member_id not in (source, target)


def rank_paths(
    source: str,
    target: str,
    near_source: Mapping[str, Neighbour],
    near_target: Mapping[str, Neighbour],
    middle: Iterable[MiddleLink],
    limit: int,
) -> list[FoundPath]:
    """Paths of 2 and 3 hops through members who allow introductions, no member twice;
    the best one per first intermediary; by score, then fewer hops, then ids."""

    def usable(neighbour: Neighbour) -> bool:
        return can_introduce(neighbour, source, target)

    best: dict[str, FoundPath] = {}

    def offer(path: FoundPath) -> None:
        first = path.intermediaries[0]
        if first not in best or path.rank < best[first].rank:
            best[first] = path

    for member_id, near in near_source.items():
        far = near_target.get(member_id)
        if usable(near) and far is not None:
            offer(_path((source, member_id, near.strength), (member_id, target, far.strength)))
    for link in middle:
        x = near_source.get(link.source_side)
        y = near_target.get(link.target_side)
        if x is not None and y is not None and usable(x) and usable(y) and x != y:
            offer(
                _path(
                    (source, x.member_id, x.strength),
                    (x.member_id, y.member_id, link.strength),
                    (y.member_id, target, y.strength),
                )
            )
    return sorted(best.values(), key=lambda path: path.rank)[:limit]


def separation(
    direct: bool,
    near_source: Mapping[str, Neighbour],
    near_target: Mapping[str, Neighbour],
    linked_in_middle: bool,
) -> int | None:
    """The degree of separation up to 3, whoever allows introductions."""
    if direct:
        return 1
    if near_source.keys() & near_target.keys():
        return 2
    return 3 if linked_in_middle else None
