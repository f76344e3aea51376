"""Planning the middle step (paths/middle.py): pure functions, no database."""

import itertools
import random

import pytest

from services.graph.paths.middle import Bounds, _leftover_pairs, plan_middle
from services.graph.paths.search import Neighbour


def _neighbours(rng: random.Random, prefix: str, count: int) -> list[Neighbour]:
    return [
        Neighbour(
            member_id=f"{prefix}{n}",
            element_id=f"e-{prefix}{n}",
            may_introduce=rng.random() < 0.8,
            strength=round(rng.uniform(0.05, 1.0), 2),  # rounded: ties happen
            degree=rng.randint(1, 3_000),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("seed", range(20))
def test_leftover_pairs_are_the_best_products_in_order(seed: int) -> None:
    rng = random.Random(seed)
    xs, ys = _neighbours(rng, "x", rng.randint(0, 30)), _neighbours(rng, "y", rng.randint(0, 30))
    # A member on both sides is never paired with itself.
    if xs and ys:
        ys.append(xs[0])
    floor, cap = rng.choice([0.0, 0.1, 0.3]), rng.choice([5, 50, 10_000])

    def usable(n: Neighbour) -> bool:
        return n.may_introduce

    got = _leftover_pairs(xs, ys, usable, floor, cap)

    expected = sorted(
        (
            (x, y)
            for x, y in itertools.product(xs, ys)
            if usable(x) and usable(y) and x != y and x.strength * y.strength >= floor
        ),
        key=lambda pair: -pair[0].strength * pair[1].strength,
    )
    assert [x.strength * y.strength for x, y in got] == [
        x.strength * y.strength for x, y in expected[:cap]
    ]
    assert len(set(got)) == len(got)
    assert set(got) <= set(expected)
    if len(expected) <= cap:
        assert set(got) == set(expected)


def test_pairs_sharing_one_hub_expand_the_hub_instead() -> None:
    def member(name: str, degree: int) -> Neighbour:
        return Neighbour(name, f"e-{name}", True, 0.5, degree)

    # The source side: three hubs, never expanded as a matter of course; the target
    # side: one hub. Three Expand(Into)s of 2,000 would read more than expanding the
    # target side's hub (3,000) once.
    near_source = {m.member_id: m for m in (member(f"s{n}", 2_000) for n in range(3))}
    near_target = {"t": member("t", 3_000)}
    plan = plan_middle(near_source, near_target, lambda _: True, 0.0, Bounds(1_000, 10_000, 500))

    assert plan is not None
    assert plan.pairs == []
    assert "e-t" in (plan.backward if plan.from_source else plan.forward)


def test_pairs_beyond_the_floor_are_not_tested() -> None:
    def member(name: str, strength: float) -> Neighbour:
        return Neighbour(name, f"e-{name}", True, strength, 5_000)

    near_source = {"a": member("a", 0.9), "b": member("b", 0.2)}
    near_target = {"c": member("c", 0.5)}
    plan = plan_middle(near_source, near_target, lambda _: True, 0.3, Bounds(1_000, 10_000, 500))

    assert plan is not None
    # 0.9 x 0.5 reaches the floor of 0.3; 0.2 x 0.5 cannot.
    assert plan.pairs == [["e-a", "e-c"]] or plan.pairs == [["e-c", "e-a"]]
