"""A search weighs its links from their age against each rating's band limits
(``service._Scoring.weight``); that must be the formula's band exactly, at the edges
of the bands too, or the ranking would differ from brute force."""

import random

import pytest

from rapport_common.domain import privacy
from rapport_common.settings import StrengthSettings
from rapport_common.strength import DAY_MS
from services.graph.paths.service import _band_limits, _Scoring

MODELS = (StrengthSettings(), StrengthSettings(half_life_days=30.0, unrated_rating=3))
AT_MS = 1_767_225_600_000  # 2026-01-01


def _by_formula(scoring: _Scoring, rating: int, since_ms: int) -> float:
    return privacy.rank_weight(scoring.strength(rating, since_ms))


@pytest.mark.parametrize("settings", MODELS)
def test_band_limits_give_the_formulas_weight(settings: StrengthSettings) -> None:
    scoring = _Scoring(settings, AT_MS)
    rng = random.Random(14)
    checked = 0
    for rating in range(1, 11):
        strong, good = _band_limits(settings.half_life_days, settings.unrated_rating, rating)
        ages = {0, 1, DAY_MS, -DAY_MS, 10 * 365 * DAY_MS}
        for limit in (strong, good):
            if limit >= 0:
                ages |= {limit - 1, limit, limit + 1}
        ages |= {rng.randrange(0, 3 * 365 * DAY_MS) for _ in range(300)}
        for age in ages:
            since_ms = AT_MS - age
            assert scoring.weight(rating, since_ms) == _by_formula(scoring, rating, since_ms)
            checked += 1
    assert checked > 3_000


def test_band_limits_are_edges() -> None:
    """Strong up to its limit and not a millisecond after; a rating of 1 is never good."""
    settings = StrengthSettings()
    scoring = _Scoring(settings, AT_MS)
    strong, good = _band_limits(settings.half_life_days, settings.unrated_rating, 10)
    assert 0 < strong < good
    assert scoring.strength(10, AT_MS - strong) >= 0.7 > scoring.strength(10, AT_MS - strong - 1)
    assert _band_limits(settings.half_life_days, settings.unrated_rating, 1) == (-1, -1)
