"""Introduction paths, mutual connections and degree of separation between two members.

Meet in the middle, with bounds (docs/graph.md, "Paths"): each endpoint contributes at
most ``NEIGHBOUR_CAP`` of its strongest connections; then the links between the two
neighbourhoods are read by expanding members of one side, never a hub (more than
``HUB_DEGREE`` connections), strongest first within ``EXPANSION_BUDGET`` relationships
per side. Links between two members that both went unexpanded (two hubs, typically) are
tested pair by pair in the same query, only for pairs whose path could still enter the
answer (its score is at most the product of the two outer links, and must reach the
limit-th best 2-hop path), strongest first, at most ``PAIR_CHECK_CAP`` pairs
(``middle.py`` plans it). The work is bounded by those numbers, not by the size of the
graph.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rapport_common.settings import StrengthSettings
from rapport_common.strength import (
    band,
    cypher_parameters,
    days_between,
    epoch_ms,
    weaker_side_strength,
)
from rapport_common.web.problems import Problem
from services.graph.database import Graph
from services.graph.paths import queries
from services.graph.paths.middle import Bounds, plan_middle
from services.graph.paths.schemas import (
    DegreeOut,
    LinkOut,
    MutualOut,
    MutualsOut,
    PathOut,
    PathsOut,
)
from services.graph.paths.search import (
    FoundPath,
    MiddleLink,
    Neighbour,
    can_introduce,
    rank_paths,
    separation,
)

# At most this many of an endpoint's connections (its strongest) enter a search.
NEIGHBOUR_CAP = 1_000
# A member with more connections is a hub: not expanded in the middle step as a matter
# of course. Its links to the other side are found from the other side's members, or,
# when those are hubs too, by testing the pairs that could matter.
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
class _Scoring:
    """Strengths at one moment: the queries rank by them, Python scores the links."""

    settings: StrengthSettings
    at_ms: int

    def strength(self, weaker_rating: int, since_ms: int) -> float:
        return weaker_side_strength(
            self.settings, weaker_rating, days_between(since_ms, self.at_ms)
        )

    @property
    def parameters(self) -> dict[str, float]:
        return cypher_parameters(self.settings, self.at_ms)


@dataclass(frozen=True)
class _Search:
    near_source: dict[str, Neighbour]
    near_target: dict[str, Neighbour]
    direct: bool


async def _neighbourhood(
    graph: Graph, scoring: _Scoring, member_id: str, other_id: str
) -> tuple[dict[str, Neighbour], bool]:
    rows = await graph.read(
        queries.NEIGHBOURHOOD,
        member_id=member_id,
        other_id=other_id,
        cap=NEIGHBOUR_CAP,
        **scoring.parameters,
    )
    if not rows:
        return {}, False
    neighbours = {
        member: Neighbour(member, element, allows, scoring.strength(rating, since_ms), degree)
        for member, element, allows, rating, since_ms, degree in rows[0]["neighbours"]
    }
    return neighbours, rows[0]["direct"]


async def _search(graph: Graph, scoring: _Scoring, source: str, target: str) -> _Search:
    if source == target:
        raise SameMember("Source and target must be two different members.")
    (near_source, direct), (near_target, _) = await asyncio.gather(
        _neighbourhood(graph, scoring, source, target),
        _neighbourhood(graph, scoring, target, source),
    )
    # Neither endpoint can be a middle member of its own path.
    near_source.pop(target, None)
    near_target.pop(source, None)
    return _Search(near_source, near_target, direct)


async def _middle_links(
    graph: Graph,
    scoring: _Scoring,
    search: _Search,
    usable: Callable[[Neighbour], bool],
    floor: float,
) -> list[MiddleLink]:
    """The links between the neighbourhoods, in one query planned by ``plan_middle``:
    all of them but those between two unexpanded members whose path cannot reach
    ``floor`` (or is beyond ``PAIR_CHECK_CAP``)."""
    bounds = Bounds(HUB_DEGREE, EXPANSION_BUDGET, PAIR_CHECK_CAP)
    plan = plan_middle(search.near_source, search.near_target, usable, floor, bounds)
    if plan is None:
        return []
    rows = await graph.read(
        queries.MIDDLE_LINKS,
        forward=plan.forward,
        near_target=plan.near_target,
        backward=plan.backward,
        unexpanded=plan.unexpanded,
        pairs=plan.pairs,
        **scoring.parameters,
    )
    members = {
        n.element_id: n.member_id
        for n in (*search.near_source.values(), *search.near_target.values())
    }
    links = []
    for a_side, b_side, rating, since_ms in rows[0]["links"] if rows else ():
        pair = (members[a_side], members[b_side])
        source_side, target_side = pair if plan.from_source else pair[::-1]
        links.append(MiddleLink(source_side, target_side, scoring.strength(rating, since_ms)))
    return links


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
    scoring = _Scoring(settings, epoch_ms(at))
    search = await _search(graph, scoring, source, target)
    if search.direct:
        return PathsOut(degree=1, paths=[])
    # 2-hop paths first: they set the score a 3-hop path through two unexpanded members
    # must reach to matter (the limit-th best can only rise as paths are added).
    two_hops = rank_paths(source, target, search.near_source, search.near_target, [], limit)
    floor = two_hops[-1].score if len(two_hops) >= limit else 0.0

    links = await _middle_links(
        graph, scoring, search, lambda n: can_introduce(n, source, target), floor
    )
    paths = rank_paths(source, target, search.near_source, search.near_target, links, limit)
    degree = separation(False, search.near_source, search.near_target, bool(links))
    return PathsOut(degree=degree, paths=[_path_out(path) for path in paths])


async def find_degree(
    graph: Graph, settings: StrengthSettings, source: str, target: str, at: datetime
) -> DegreeOut:
    scoring = _Scoring(settings, epoch_ms(at))
    search = await _search(graph, scoring, source, target)
    near_source, near_target = search.near_source, search.near_target
    if search.direct or near_source.keys() & near_target.keys():
        return DegreeOut(degree=separation(search.direct, near_source, near_target, False))
    # Any link will do, whoever allows introductions.
    linked = bool(await _middle_links(graph, scoring, search, lambda _: True, 0.0))
    return DegreeOut(degree=separation(False, near_source, near_target, linked))


async def find_mutuals(
    graph: Graph, settings: StrengthSettings, member_id: str, other_id: str, at: datetime
) -> MutualsOut:
    if member_id == other_id:
        raise SameMember("Mutual connections need two different members.")
    scoring = _Scoring(settings, epoch_ms(at))
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
        **scoring.parameters,
    )
    mutuals = []
    for mutual_id, start_rating, start_since_ms, other_rating, other_since_ms in (
        rows[0]["mutuals"] if rows else ()
    ):
        with_start = scoring.strength(start_rating, start_since_ms)
        with_other = scoring.strength(other_rating, other_since_ms)
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
