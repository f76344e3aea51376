"""Planning the middle step of the path search: which members to expand, and which
pairs of unexpanded members to test, so that one query reads every link between the two
neighbourhoods that could matter.

Pure functions over the neighbourhoods, like ``search.py``; the bounds come from the
caller (``service.py`` holds them, documented in docs/graph.md, "Bounds").
"""

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from services.graph.paths.search import Neighbour


@dataclass(frozen=True)
class Bounds:
    hub_degree: int  # a member with more connections is never expanded as a matter of course
    expansion_budget: int  # relationships expanded per side, at most
    pair_cap: int  # pairs of unexpanded members tested, at most (best first)


@dataclass(frozen=True)
class MiddlePlan:
    """The parameters of ``queries.MIDDLE_LINKS``, as element ids, in the orientation
    chosen: side ``a`` is the source's neighbourhood when ``from_source``."""

    from_source: bool
    forward: list[str]
    near_target: list[str]
    backward: list[str]
    unexpanded: list[str]
    pairs: list[list[str]]


def _expandable(near: Mapping[str, Neighbour], bounds: Bounds) -> list[Neighbour]:
    """The members of one side worth expanding: no hubs, strongest first, within budget."""
    chosen, spent = [], 0
    for neighbour in sorted(near.values(), key=lambda n: (-n.strength, n.member_id)):
        degree = neighbour.degree
        if degree <= bounds.hub_degree and spent + degree <= bounds.expansion_budget:
            chosen.append(neighbour)
            spent += degree
    return chosen


def _total_degree(members: list[Neighbour]) -> int:
    return sum(n.degree for n in members)


def plan_middle(
    near_source: Mapping[str, Neighbour],
    near_target: Mapping[str, Neighbour],
    usable: Callable[[Neighbour], bool],
    floor: float,
    bounds: Bounds,
) -> MiddlePlan | None:
    """Expand members of side ``a`` forward (links to any member of ``b``), members of
    ``b`` backward (links to the members of ``a`` left unexpanded), and test the pairs
    left over, both ends unexpanded: pairs of ``usable`` members whose path could score
    at least ``floor`` (a 3-hop path scores at most the product of its two outer links,
    the middle one being at most 1). None when a side is empty."""
    if not near_source or not near_target:
        return None
    expand_source, expand_target = (
        _expandable(near_source, bounds),
        _expandable(near_target, bounds),
    )

    def cost(forward: list[Neighbour], backward: list[Neighbour], near_a: int) -> int:
        rest = near_a > len(forward)
        return _total_degree(forward) + (_total_degree(backward) if rest else 0)

    # Expanding a forward and b backward finds the same links as the mirror image, so
    # the cheaper orientation is chosen freely.
    from_source = cost(expand_source, expand_target, len(near_source)) <= cost(
        expand_target, expand_source, len(near_target)
    )
    near_a, near_b = (near_source, near_target) if from_source else (near_target, near_source)
    expand_a, expand_b = (
        (expand_source, expand_target) if from_source else (expand_target, expand_source)
    )
    forward = {n.element_id: n for n in expand_a}
    unexpanded = {n.element_id: n for n in near_a.values() if n.element_id not in forward}
    backward = {n.element_id: n for n in expand_b} if unexpanded else {}
    unread_b = [n for n in near_b.values() if n.element_id not in backward]
    pairs = _leftover_pairs(list(unexpanded.values()), unread_b, usable, floor, bounds.pair_cap)
    # Each pair costs one Expand(Into), about its smaller end's degree; when the pairs
    # share a few members (one hub against many, typically), expanding those members
    # with the rest is cheaper, and finds their links to the other side at once.
    xs = {x.element_id: x for x, _ in pairs}
    ys = {y.element_id: y for _, y in pairs}
    per_pair = sum(min(x.degree, y.degree) for x, y in pairs)
    by_x, by_y = _total_degree(list(xs.values())), _total_degree(list(ys.values()))
    if pairs and min(by_x, by_y) < per_pair:
        if by_x <= by_y:
            forward |= xs
            unexpanded = {k: n for k, n in unexpanded.items() if k not in xs}
            backward = backward if unexpanded else {}
        else:
            backward |= ys
        pairs = []
    return MiddlePlan(
        from_source=from_source,
        forward=list(forward),
        near_target=[n.element_id for n in near_b.values()],
        backward=list(backward),
        unexpanded=list(unexpanded),
        pairs=[[x.element_id, y.element_id] for x, y in pairs],
    )


def _leftover_pairs(
    unread_a: list[Neighbour],
    unread_b: list[Neighbour],
    usable: Callable[[Neighbour], bool],
    floor: float,
    cap: int,
) -> list[tuple[Neighbour, Neighbour]]:
    """Up to ``cap`` (a side, b side) pairs of usable members whose product of outer
    links reaches ``floor``, the strongest products first. Both sides sorted strongest
    first, the products are walked in decreasing order with a heap, so two hubs' worth
    of unexpanded neighbours (a million pairs) costs ``cap`` steps, not a million."""
    # Ties by member id, so the cap cuts the same pairs whatever order the sides came in.
    xs = sorted((n for n in unread_a if usable(n)), key=lambda n: (-n.strength, n.member_id))
    ys = sorted((n for n in unread_b if usable(n)), key=lambda n: (-n.strength, n.member_id))
    if not xs or not ys:
        return []
    pairs: list[tuple[Neighbour, Neighbour]] = []
    heap = [(-xs[0].strength * ys[0].strength, 0, 0)]
    seen = {(0, 0)}
    while heap and len(pairs) < cap:
        negative_product, i, j = heapq.heappop(heap)
        if -negative_product < floor:
            break
        if xs[i].member_id != ys[j].member_id:
            pairs.append((xs[i], ys[j]))
        for ni, nj in ((i + 1, j), (i, j + 1)):
            if ni < len(xs) and nj < len(ys) and (ni, nj) not in seen:
                seen.add((ni, nj))
                heapq.heappush(heap, (-xs[ni].strength * ys[nj].strength, ni, nj))
    return pairs
