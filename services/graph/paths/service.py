"""Introduction paths, mutual connections and degree of separation between two members.

Meet in the middle, with bounds (docs/graph.md, "Paths"): each endpoint contributes at
most ``NEIGHBOUR_CAP`` of its strongest connections; then the links between the two
neighbourhoods are read by expanding members of one side, never a hub (more than
``HUB_DEGREE`` connections), strongest first within ``EXPANSION_BUDGET`` relationships
per side. Links between two members that both went unexpanded (two hubs, typically) are
then tested pair by pair, only for pairs whose path could still enter the answer (its
score is at most the product of the two outer links), strongest first, at most
``PAIR_CHECK_CAP`` pairs. The work is bounded by those numbers, not by the size of the
graph.
"""

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapport_common.settings import StrengthSettings
from rapport_common.web.problems import Problem
from services.graph.database import Graph
from services.graph.paths import queries
from services.graph.paths.schemas import (
    DegreeOut,
    LinkOut,
    MutualOut,
    MutualsOut,
    PathOut,
    PathsOut,
)
from services.graph.paths.search import FoundPath, MiddleLink, Neighbour, rank_paths, separation
from services.graph.strength import DAY_MS, band, days_between, effective_rating, epoch_ms

# At most this many of an endpoint's connections (its strongest) enter a search.
NEIGHBOUR_CAP = 1_000
# A member with more connections is a hub: never expanded in the middle step. Its links
# to the other side are still found from the other side's members, unless they are
# hubs too (docs/graph.md: such a path is left out).
HUB_DEGREE = 1_000
# Relationships read per side in the middle step, at most.
EXPANSION_BUDGET = 10_000
# Pairs of unexpanded members tested for a direct link, at most (best bound first).
PAIR_CHECK_CAP = 500
# At most this many of the smaller member's connections are scanned for mutuals.
MUTUALS_SCAN_CAP = 20_000


class SameMember(Problem):
    status, slug, title = 422, "same-member", "Source and target are the same member"


@dataclass(frozen=True)
class _Clock:
    settings: StrengthSettings
    at_ms: int

    def strength(self, lowest_rating: int, since_ms: int) -> float:
        days = days_between(since_ms, self.at_ms)
        return effective_rating(self.settings, lowest_rating, days) / 10

    @property
    def parameters(self) -> dict[str, Any]:
        return {
            "unrated": self.settings.unrated_rating,
            "at_ms": self.at_ms,
            "half_life_ms": self.settings.half_life_days * DAY_MS,
        }


@dataclass(frozen=True)
class _Search:
    source: str
    target: str
    near_source: dict[str, Neighbour]
    near_target: dict[str, Neighbour]
    direct: bool


async def _neighbourhood(
    graph: Graph, clock: _Clock, member_id: str, other_id: str
) -> tuple[dict[str, Neighbour], bool]:
    rows = await graph.read(
        queries.NEIGHBOURHOOD,
        member_id=member_id,
        other_id=other_id,
        cap=NEIGHBOUR_CAP,
        **clock.parameters,
    )
    if not rows:
        return {}, False
    neighbours = {
        member: Neighbour(member, element, allows, clock.strength(rating, since_ms), degree)
        for member, element, allows, rating, since_ms, degree in rows[0]["neighbours"]
    }
    return neighbours, rows[0]["direct"]


async def _search(graph: Graph, clock: _Clock, source: str, target: str) -> _Search:
    if source == target:
        raise SameMember("Source and target must be two different members.")
    (near_source, direct), (near_target, _) = await asyncio.gather(
        _neighbourhood(graph, clock, source, target),
        _neighbourhood(graph, clock, target, source),
    )
    # Neither endpoint can be a middle member of its own path.
    near_source.pop(target, None)
    near_target.pop(source, None)
    return _Search(source, target, near_source, near_target, direct)


def _expandable(near: dict[str, Neighbour]) -> list[Neighbour]:
    """The members of one side worth expanding: no hubs, strongest first, within budget."""
    chosen, spent = [], 0
    for neighbour in sorted(near.values(), key=lambda n: (-n.strength, n.member_id)):
        if neighbour.degree <= HUB_DEGREE and spent + neighbour.degree <= EXPANSION_BUDGET:
            chosen.append(neighbour)
            spent += neighbour.degree
    return chosen


@dataclass(frozen=True)
class _Middle:
    """The links read between the neighbourhoods, and the members on each side whose
    links to each other were not read (neither end was expanded)."""

    links: list[MiddleLink]
    unread_source_side: list[Neighbour]
    unread_target_side: list[Neighbour]


def _link(
    clock: _Clock, source_side: str, target_side: str, rating: int, since_ms: int
) -> MiddleLink:
    return MiddleLink(source_side, target_side, clock.strength(rating, since_ms))


async def _middle_links(graph: Graph, clock: _Clock, search: _Search) -> _Middle:
    """Every link between the neighbourhoods except those whose two ends both went
    unexpanded. Expanding ``a`` forward and ``b`` backward finds the same links as the
    mirror image, so the cheaper orientation is chosen freely."""
    near_a, near_b = search.near_source, search.near_target
    if not near_a or not near_b:
        return _Middle([], [], [])
    expand_a, expand_b = _expandable(near_a), _expandable(near_b)

    def cost(
        forward: list[Neighbour], backward: list[Neighbour], near: dict[str, Neighbour]
    ) -> int:
        rest = len(near) > len(forward)
        return sum(n.degree for n in forward) + (sum(n.degree for n in backward) if rest else 0)

    from_source = cost(expand_a, expand_b, near_a) <= cost(expand_b, expand_a, near_b)
    if not from_source:
        near_a, near_b, expand_a, expand_b = near_b, near_a, expand_b, expand_a
    forward = {n.element_id for n in expand_a}
    unexpanded = [n.element_id for n in near_a.values() if n.element_id not in forward]
    rows = await graph.read(
        queries.MIDDLE_LINKS,
        forward=list(forward),
        near_target=[n.element_id for n in near_b.values()],
        backward=[n.element_id for n in expand_b] if unexpanded else [],
        unexpanded=unexpanded,
        **clock.parameters,
    )
    members = {n.element_id: n.member_id for n in (*near_a.values(), *near_b.values())}
    links = []
    for a_side, b_side, rating, since_ms in rows[0]["links"] if rows else ():
        pair = (members[a_side], members[b_side])
        source_side, target_side = pair if from_source else pair[::-1]
        links.append(_link(clock, source_side, target_side, rating, since_ms))
    backward = {n.element_id for n in expand_b} if unexpanded else set()
    unread_a = [n for n in near_a.values() if n.element_id not in forward]
    unread_b = [n for n in near_b.values() if n.element_id not in backward]
    if not unread_a or not unread_b:
        return _Middle(links, [], [])
    if from_source:
        return _Middle(links, unread_a, unread_b)
    return _Middle(links, unread_b, unread_a)


async def _pair_links(
    graph: Graph, clock: _Clock, pairs: list[tuple[Neighbour, Neighbour]]
) -> list[MiddleLink]:
    """The links among ``pairs`` (source side, target side). Each pair costs one
    Expand(Into), about the smaller end's degree; when the pairs share a few members
    (one hub against many, typically), expanding those members once is cheaper, and
    the links found are then kept only for the pairs asked."""
    if not pairs:
        return []
    members = {n.element_id: n.member_id for pair in pairs for n in pair}
    xs = {x.element_id: x.degree for x, _ in pairs}
    ys = {y.element_id: y.degree for _, y in pairs}
    per_pair = sum(min(x.degree, y.degree) for x, y in pairs)
    if min(sum(xs.values()), sum(ys.values())) < per_pair:
        from_xs = sum(xs.values()) <= sum(ys.values())
        expand, other = (xs, ys) if from_xs else (ys, xs)
        rows = await graph.read(
            queries.MIDDLE_LINKS,
            forward=list(expand),
            near_target=list(other),
            backward=[],
            unexpanded=[],
            **clock.parameters,
        )
        asked = {(x.element_id, y.element_id) for x, y in pairs}
        found = [
            (a, b, rating, since_ms) if from_xs else (b, a, rating, since_ms)
            for a, b, rating, since_ms in (rows[0]["links"] if rows else ())
        ]
        found = [link for link in found if (link[0], link[1]) in asked]
    else:
        rows = await graph.read(
            queries.PAIR_LINKS,
            pairs=[[x.element_id, y.element_id] for x, y in pairs],
            **clock.parameters,
        )
        found = rows[0]["links"] if rows else []
    return [
        _link(clock, members[x], members[y], rating, since_ms) for x, y, rating, since_ms in found
    ]


def _pairs_worth_checking(
    search: _Search, middle: _Middle, found: list[FoundPath], limit: int
) -> list[tuple[Neighbour, Neighbour]]:
    """Unread pairs whose 3-hop path could still enter the top ``limit``: its score is at
    most the product of its two outer links (the middle one is at most 1), and the
    ``limit``-th best score can only rise as paths are added. Best bound first."""
    floor = found[-1].score if len(found) >= limit else 0.0

    def usable(n: Neighbour) -> bool:
        return n.allows_introductions and n.member_id not in (search.source, search.target)

    xs = sorted((n for n in middle.unread_source_side if usable(n)), key=lambda n: -n.strength)
    ys = sorted((n for n in middle.unread_target_side if usable(n)), key=lambda n: -n.strength)
    pairs = []
    for x in xs:
        for y in ys:
            if x.strength * y.strength < floor:
                break  # ys are strongest first: the rest of this row cannot do better
            if x.member_id != y.member_id:
                pairs.append((x, y))
    pairs.sort(key=lambda pair: -pair[0].strength * pair[1].strength)
    return pairs[:PAIR_CHECK_CAP]


def _path_out(path: FoundPath) -> PathOut:
    return PathOut(
        intermediaries=list(path.intermediaries),
        hops=len(path.links),
        score=path.score,
        links=[
            LinkOut.model_validate({"from": a, "to": b, "strength": s, "band": band(s)})
            for a, b, s in path.links
        ],
    )


async def find_paths(
    graph: Graph,
    settings: StrengthSettings,
    source: str,
    target: str,
    limit: int,
    at: datetime,
) -> PathsOut:
    clock = _Clock(settings, epoch_ms(at))
    search = await _search(graph, clock, source, target)
    if search.direct:
        return PathsOut(degree=1, paths=[])
    middle = await _middle_links(graph, clock, search)
    links = middle.links
    paths = rank_paths(source, target, search.near_source, search.near_target, links, limit)
    more = await _pair_links(graph, clock, _pairs_worth_checking(search, middle, paths, limit))
    if more:
        links = [*links, *more]
        paths = rank_paths(source, target, search.near_source, search.near_target, links, limit)
    degree = separation(False, search.near_source, search.near_target, bool(links))
    return PathsOut(degree=degree, paths=[_path_out(path) for path in paths])


async def find_degree(
    graph: Graph, settings: StrengthSettings, source: str, target: str, at: datetime
) -> DegreeOut:
    clock = _Clock(settings, epoch_ms(at))
    search = await _search(graph, clock, source, target)
    near_source, near_target = search.near_source, search.near_target
    if search.direct or near_source.keys() & near_target.keys():
        return DegreeOut(degree=separation(search.direct, near_source, near_target, False))
    middle = await _middle_links(graph, clock, search)
    linked = bool(middle.links)
    if not linked:
        # Any unread pair will do, whoever allows introductions.
        pairs = itertools.product(middle.unread_source_side, middle.unread_target_side)
        linked = bool(
            await _pair_links(graph, clock, list(itertools.islice(pairs, PAIR_CHECK_CAP)))
        )
    return DegreeOut(degree=separation(False, near_source, near_target, linked))


async def find_mutuals(
    graph: Graph, settings: StrengthSettings, member_id: str, other_id: str, at: datetime
) -> MutualsOut:
    if member_id == other_id:
        raise SameMember("Mutual connections need two different members.")
    clock = _Clock(settings, epoch_ms(at))
    degrees = {
        row["member_id"]: row["degree"]
        for row in await graph.read(queries.DEGREES, member_ids=[member_id, other_id])
    }
    from_member = degrees.get(member_id, 0) <= degrees.get(other_id, 0)
    start, other = (member_id, other_id) if from_member else (other_id, member_id)
    rows = await graph.read(
        queries.MUTUALS,
        start=start,
        other=other,
        cap=MUTUALS_SCAN_CAP,
        unrated=settings.unrated_rating,
    )
    mutuals = []
    for mutual_id, start_rating, start_since_ms, other_rating, other_since_ms in (
        rows[0]["mutuals"] if rows else ()
    ):
        with_start = clock.strength(start_rating, start_since_ms)
        with_other = clock.strength(other_rating, other_since_ms)
        with_member, with_other_member = (
            (with_start, with_other) if from_member else (with_other, with_start)
        )
        mutuals.append(
            MutualOut(
                member_id=mutual_id,
                strength_with_member=with_member,
                strength_with_other=with_other_member,
            )
        )
    mutuals.sort(key=lambda m: (-m.strength_with_other, str(m.member_id)))
    return MutualsOut(mutuals=mutuals)
