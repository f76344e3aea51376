"""The strength model (README, "Strength"), the one place its formula lives.

Each side privately rates the other 1-10; a rating fades towards 1 with a half-life,
counted from the pair's last interaction (or from when they connected). A link is as
strong as its weaker side, so a path through it never overstates either member.
"""

from datetime import datetime
from typing import Literal

from rapport_common.settings import StrengthSettings

STRONG = 0.7
GOOD = 0.5
SECONDS_PER_DAY = 86_400.0

Band = Literal["strong", "good", "weak"]


def days_since(since: datetime, now: datetime) -> float:
    # A clock before the reference (a past ``now``) does not strengthen a link.
    return max(0.0, (now - since).total_seconds()) / SECONDS_PER_DAY


def effective_rating(settings: StrengthSettings, rating: int | None, days: float) -> float:
    """e = 1 + (r - 1) * 2^(-d / H); an unrated side counts as ``unrated_rating``."""
    value = settings.unrated_rating if rating is None else rating
    return 1 + (value - 1) * 2 ** (-days / settings.half_life_days)


def link_strength(
    settings: StrengthSettings, rating_a: int | None, rating_b: int | None, days: float
) -> float:
    """min(e(A->B), e(B->A)) / 10, in [0.1, 1]."""
    return (
        min(effective_rating(settings, rating_a, days), effective_rating(settings, rating_b, days))
        / 10
    )


def band(strength: float) -> Band:
    if strength >= STRONG:
        return "strong"
    if strength >= GOOD:
        return "good"
    return "weak"
