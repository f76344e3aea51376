"""Ranking introduction paths from the two neighbourhoods and the links between them.

Pure functions over what the queries returned, so the rules (consent, one path per
first intermediary, the ranking) read in one place and are tested without a database.
Strengths here are ranking weights (``privacy.rank_weight``): a path's score is a
function of the bands it shows, so its place in the order reveals nothing finer.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Neighbour:
    member_id: str
    element_id: str
    may_introduce: bool  # privacy.may_introduce of the member's settings
    # The ranking weight of the link to the endpoint whose neighbourhood this is: from
    # the viewer's own rating on the source side, from the weaker side on the target's.
    strength: float
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
    # Rounded, so two paths with the same bands tie exactly and fall to the next key
    # (the weights have two decimals, so six keep every product exact).
    return FoundPath(tuple(link[1] for link in links[:-1]), links, round(_product(links), 6))


def can_introduce(neighbour: Neighbour, source: str, target: str) -> bool:
    """Whether ``neighbour`` may stand in the middle of a path from source to target."""
    return neighbour.may_introduce and neighbour.member_id not in (source, target)


def rank_paths(
    source: str,
    target: str,
    near_source: Mapping[str, Neighbour],
    near_target: Mapping[str, Neighbour],
    middle: Iterable[MiddleLink],
    limit: int,
) -> list[FoundPath]:
    """Paths of 2 and 3 hops through members who consent, no member twice; the best one
    per first intermediary; by score, then fewer hops, then ids."""

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
        if (
            x is not None
            and y is not None
            and usable(x)
            and usable(y)
            and x.member_id != y.member_id
        ):
            offer(
                _path(
                    (source, x.member_id, x.strength),
                    (x.member_id, y.member_id, link.strength),
                    (y.member_id, target, y.strength),
                )
            )
    return sorted(best.values(), key=lambda path: path.rank)[:limit]


def consented_degree(
    direct: bool,
    near_source: Mapping[str, Neighbour],
    near_target: Mapping[str, Neighbour],
    middle: Iterable[MiddleLink],
    usable: Callable[[Neighbour], bool],
) -> int | None:
    """The fewest hops of a way through members who consent (``usable``), up to 3: the
    degree the paths would show, so the two always agree."""
    if direct:
        return 1
    if any(usable(near) for m, near in near_source.items() if m in near_target):
        return 2

    def joins_a_way(link: MiddleLink) -> bool:
        x, y = near_source.get(link.source_side), near_target.get(link.target_side)
        if x is None or y is None or x.member_id == y.member_id:
            return False
        return usable(x) and usable(y)

    return 3 if any(map(joins_a_way, middle)) else None
