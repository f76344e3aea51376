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
graph. Usually that planned step is not needed: when one side's consenting members have
at most ``WHOLE_SIDE_BUDGET`` relationships in all, the first query reads that side whole
and with it every link between the two sides (``queries.SEARCH``).

Consent is applied inside the search (docs/privacy.md): the settings of intermediaries
and target come from the projected member nodes, and the viewer is ``source`` (paths,
degree) or ``member_id`` (mutuals). So the limit, the floor pruning and the degree count
only ways the viewer may see, and paths and degree come from the same search.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapport_common.domain import privacy
from rapport_common.domain.privacy import Consent
from rapport_common.settings import StrengthSettings
from rapport_common.strength import (
    GOOD,
    STRONG,
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
from services.graph.paths.schemas import DegreeOut, MutualOut, MutualsOut, PathsOut
from services.graph.paths.search import (
    FoundPath,
    MiddleLink,
    Neighbour,
    can_introduce,
    consented_degree,
    rank_paths,
)

# At most this many of an endpoint's connections (its strongest) enter a search.
NEIGHBOUR_CAP = 1_000
# A member with more connections is a hub: not expanded in the middle step as a matter
# of course. Its links to the other side are found from the other side's members, or,
# when those are hubs too, by testing the pairs that could matter.
HUB_DEGREE = 1_000
# Relationships read per side in the middle step, at most.
EXPANSION_BUDGET = 10_000
# Relationships the search query reads to take one side whole, at most; beyond it the
# middle step is planned (a second query). Reading a side whole costs Neo4j about the
# same per relationship as the planned step, which also needs a second round trip: at
# 100k members a side of 20,000-40,000 relationships read whole took about half the time
# the planned step did (bench/README.md, "Findings", session 22).
WHOLE_SIDE_BUDGET = 60_000
# Pairs of unexpanded members tested for a direct link, at most (best bound first).
PAIR_CHECK_CAP = 500
# At most this many of the smaller member's connections are scanned for mutuals.
MUTUALS_SCAN_CAP = 20_000


class SameMember(Problem):
    status, slug, title = 422, "same-member", "Source and target are the same member"


_STRONG_WEIGHT, _GOOD_WEIGHT, _WEAK_WEIGHT = (
    privacy.BAND_WEIGHTS[b] for b in ("strong", "good", "weak")
)
# Far beyond any link's age (about 35,000 years), where every rating has faded to weak.
_NEVER_MS = 1 << 50


@functools.cache
def _band_limits(half_life_days: float, unrated: int, rating: int) -> tuple[int, int]:
    """The oldest age, in ms, at which a link whose weaker side rated ``rating`` is still
    strong, and still good (-1: not even new). A strength only falls with age, and one
    millisecond moves it by some 10^5 units of the formula's rounding near a band's edge,
    so comparing an age with these gives exactly the formula's band; found once per
    model and rating by bisection on the formula itself."""
    settings = StrengthSettings(half_life_days=half_life_days, unrated_rating=unrated)

    def oldest(threshold: float) -> int:
        def holds(age_ms: int) -> bool:
            strength = weaker_side_strength(settings, rating, days_between(0, age_ms))
            return strength >= threshold

        if not holds(0):
            return -1
        if holds(_NEVER_MS):
            return _NEVER_MS
        low, high = 0, _NEVER_MS  # holds(low), not holds(high)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if holds(middle) else (low, middle)
        return low

    return oldest(STRONG), oldest(GOOD)


@dataclass(frozen=True)
class _Scoring:
    """Strengths at one moment: the queries rank by them, Python weighs the links."""

    settings: StrengthSettings
    at_ms: int

    def strength(self, rating: int, since_ms: int) -> float:
        """``rating``'s effective value / 10: a link's strength from its weaker side, or
        one member's own side of it."""
        return weaker_side_strength(self.settings, rating, days_between(since_ms, self.at_ms))

    def weight(self, rating: int, since_ms: int) -> float:
        """``privacy.rank_weight(self.strength(rating, since_ms))``, from the link's age
        against its rating's band limits instead of the formula (a search weighs a few
        hundred links)."""
        settings = self.settings
        strong, good = _band_limits(settings.half_life_days, settings.unrated_rating, rating)
        age = max(0, self.at_ms - since_ms)
        return _STRONG_WEIGHT if age <= strong else _GOOD_WEIGHT if age <= good else _WEAK_WEIGHT

    @property
    def parameters(self) -> dict[str, float]:
        return cypher_parameters(self.settings, self.at_ms)


@dataclass(frozen=True)
class _Search:
    near_source: dict[str, Neighbour]
    near_target: dict[str, Neighbour]
    direct: bool
    target: Consent
    # The links between the two neighbourhoods when the search query could read them
    # all within the bounds; None when the middle step is still to be planned.
    middle: list[MiddleLink] | None


# ``SEARCH``'s ``$consents``: privacy.may_introduce on stored settings, defaults when unset.
_CONSENTS = {
    "allows_introductions": Consent.allows_introductions,
    "visible_to": Consent.visible_to.value,
    "visible": sorted(v.value for v in privacy.introducing_visibilities()),
}


def _neighbours(
    rows: list[list[Any]], scoring: _Scoring, own: bool, endpoint: str
) -> dict[str, Neighbour]:
    """One endpoint's neighbours, each link weighed by the endpoint's own rating when
    ``own`` (the viewer's first link: re-rating it moves only the viewer's own band),
    else by its weaker side. ``endpoint`` is the other end of the path: it can be no
    middle member of its own path."""
    neighbours = {}
    weight = scoring.weight
    consents: dict[tuple[str | None, bool | None], bool] = {}  # a few distinct settings
    for member, element, allows, visible_to, weaker, own_rating, since_ms, degree in rows:
        if member == endpoint:
            continue
        consent = consents.get((visible_to, allows))
        if consent is None:
            consent = privacy.may_introduce(Consent.from_graph(visible_to, allows, None))
            consents[visible_to, allows] = consent
        strength = weight(own_rating if own else weaker, since_ms)
        neighbours[member] = Neighbour(member, element, consent, strength, degree)
    return neighbours


def _links(
    rows: list[list[Any]],
    scoring: _Scoring,
    near_source: dict[str, Neighbour],
    near_target: dict[str, Neighbour],
    from_source: bool = True,
) -> list[MiddleLink]:
    """Middle links as the queries return them (element ids, rating, since_ms)."""
    members = {n.element_id: n.member_id for n in (*near_source.values(), *near_target.values())}
    links = []
    for a_side, b_side, rating, since_ms in rows:
        pair = (members[a_side], members[b_side])
        source_side, target_side = pair if from_source else pair[::-1]
        links.append(MiddleLink(source_side, target_side, scoring.weight(rating, since_ms)))
    return links


async def _search(
    graph: Graph, scoring: _Scoring, source: str, target: str, middle: bool
) -> _Search:
    """Both neighbourhoods in one query, and with ``middle`` the links between them
    too when they can all be read within the bounds (``queries.SEARCH``)."""
    if source == target:
        raise SameMember("Source and target must be two different members.")
    rows = await graph.read(
        queries.SEARCH,
        source=source,
        target=target,
        cap=NEIGHBOUR_CAP,
        consents=_CONSENTS,
        budget=WHOLE_SIDE_BUDGET,
        middle=middle,
        **scoring.parameters,
    )
    row = rows[0]
    near_source = _neighbours(row["near_source"], scoring, True, target)
    near_target = _neighbours(row["near_target"], scoring, False, source)
    found = row["links"]
    links = None if found is None else _links(found, scoring, near_source, near_target)
    target_consent = Consent.from_graph(*row["consent"])
    return _Search(near_source, near_target, row["direct"], target_consent, links)


async def _middle_links(
    graph: Graph,
    scoring: _Scoring,
    search: _Search,
    usable: Callable[[Neighbour], bool],
    floor: float,
) -> list[MiddleLink]:
    """The links between the usable members of the two neighbourhoods, in one query
    planned by ``plan_middle``: all of them but those between two unexpanded members
    whose path cannot reach ``floor`` (or is beyond ``PAIR_CHECK_CAP``). A link with an
    end who does not consent can be on no way, so those members are not expanded."""
    near_source = {k: n for k, n in search.near_source.items() if usable(n)}
    near_target = {k: n for k, n in search.near_target.items() if usable(n)}
    bounds = Bounds(HUB_DEGREE, EXPANSION_BUDGET, PAIR_CHECK_CAP)
    plan = plan_middle(near_source, near_target, usable, floor, bounds)
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
    found = rows[0]["links"] if rows else []
    return _links(found, scoring, near_source, near_target, plan.from_source)


def _path_body(path: FoundPath) -> dict[str, Any]:
    return {
        "intermediaries": list(path.intermediaries),
        "hops": len(path.links),
        "score": path.score,
        "links": [{"from": a, "to": b, "band": band(weight)} for a, b, weight in path.links],
    }


async def _ways(
    graph: Graph, scoring: _Scoring, source: str, target: str, limit: int
) -> tuple[int | None, list[FoundPath]]:
    """The one search behind paths and degree: the degree of the ways ``source`` may
    see to ``target``, and the best ``limit`` of them (``limit=0``: the degree alone,
    which spares the middle step when a 2-hop way exists)."""
    search = await _search(graph, scoring, source, target, middle=limit > 0)
    if search.direct:
        return 1, []
    reach = privacy.max_hops_to(search.target)
    if reach < 2:
        return None, []

    def usable(neighbour: Neighbour) -> bool:
        return can_introduce(neighbour, source, target)

    near_source, near_target = search.near_source, search.near_target
    links = search.middle
    if reach < 3 or links is None:
        two_hops = rank_paths(source, target, near_source, near_target, [], limit)
        degree = consented_degree(False, near_source, near_target, [], usable)
        if reach < 3 or (limit == 0 and degree is not None):
            return degree, two_hops
        # 2-hop paths set the score a 3-hop path through two unexpanded members must
        # reach to matter (the limit-th best can only rise as paths are added). Without
        # a 2-hop way the floor is 0 for any limit, so the degree is found from the same
        # links.
        floor = two_hops[-1].score if limit and len(two_hops) >= limit else 0.0
        links = await _middle_links(graph, scoring, search, usable, floor)
    paths = rank_paths(source, target, near_source, near_target, links, limit)
    return consented_degree(False, near_source, near_target, links, usable), paths


async def paths_body(
    graph: Graph,
    settings: StrengthSettings,
    source: str,
    target: str,
    limit: int,
    at: datetime,
) -> dict[str, Any]:
    """The answer of ``/internal/v1/paths`` in ``PathsOut``'s shape, as plain values
    ready for JSON: the lean route (``router.py``) sends it as it is. Member ids are the
    canonical UUID text the projection and the importers store."""
    degree, paths = await _ways(graph, _Scoring(settings, epoch_ms(at)), source, target, limit)
    return {"degree": degree, "paths": [_path_body(path) for path in paths]}


async def find_paths(
    graph: Graph,
    settings: StrengthSettings,
    source: str,
    target: str,
    limit: int,
    at: datetime,
) -> PathsOut:
    return PathsOut.model_validate(await paths_body(graph, settings, source, target, limit, at))


async def find_degree(
    graph: Graph, settings: StrengthSettings, source: str, target: str, at: datetime
) -> DegreeOut:
    degree, _ = await _ways(graph, _Scoring(settings, epoch_ms(at)), source, target, 0)
    return DegreeOut(degree=degree)


async def find_mutuals(
    graph: Graph, settings: StrengthSettings, member_id: str, other_id: str, at: datetime
) -> MutualsOut:
    """The members of the 2-hop ways ``member_id`` may see to ``other_id``."""
    if member_id == other_id:
        raise SameMember("Mutual connections need two different members.")
    scoring = _Scoring(settings, epoch_ms(at))
    found = await graph.read(queries.DEGREES, member_ids=[member_id, other_id])
    degrees = {row["member_id"]: row["degree"] for row in found}
    target = next(
        (Consent.from_graph(*row["consent"]) for row in found if row["member_id"] == other_id),
        Consent(),
    )
    if privacy.max_hops_to(target) < 2:
        return MutualsOut(mutuals=[])
    from_member = degrees.get(member_id, 0) <= degrees.get(other_id, 0)
    start, other = (member_id, other_id) if from_member else (other_id, member_id)
    rows = await graph.read(
        queries.MUTUALS,
        start=start,
        other=other,
        cap=MUTUALS_SCAN_CAP,
        **scoring.parameters,
    )
    ranked = []
    for (
        mutual_id,
        allows,
        visible_to,
        start_rating,
        start_since_ms,
        other_rating,
        other_since_ms,
        start_own,
        other_own,
    ) in rows[0]["mutuals"] if rows else ():
        if not privacy.may_introduce(Consent.from_graph(visible_to, allows, None)):
            continue
        if from_member:
            mine = scoring.strength(start_own, start_since_ms)
            with_other = scoring.strength(other_rating, other_since_ms)
        else:
            mine = scoring.strength(other_own, other_since_ms)
            with_other = scoring.strength(start_rating, start_since_ms)
        mutual = MutualOut(member_id=mutual_id, my_strength=mine, band_with_other=band(with_other))
        ranked.append((-privacy.rank_weight(with_other), mutual_id, mutual))
    ranked.sort(key=lambda row: row[:2])
    return MutualsOut(mutuals=[mutual for _, _, mutual in ranked])
