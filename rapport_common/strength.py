"""The strength model (README, "Strength"), the one place its formula lives: in Python,
and as the Cypher fragments the graph service builds its queries from.

Each side privately rates the other 1-10; a rating fades towards 1 with a half-life,
counted from the pair's last interaction (or from when they connected). A link is as
strong as its weaker side, so a path through it never overstates either member.
"""

from datetime import UTC, datetime, timedelta
from typing import Literal, LiteralString

from rapport_common.settings import StrengthSettings

STRONG = 0.7
GOOD = 0.5
DAY_MS = 86_400_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_US = 86_400_000_000
_MILLISECOND = timedelta(milliseconds=1)
_MICROSECOND = timedelta(microseconds=1)

Band = Literal["strong", "good", "weak"]


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, the unit Cypher hands back (``.epochMillis``)."""
    return (as_utc(moment) - EPOCH) // _MILLISECOND


def as_utc(moment: datetime) -> datetime:
    """A naive time from a client is read as UTC rather than as the server's local time."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _days(elapsed: int, per_day: int) -> float:
    # A clock before the reference (a past ``at``) does not strengthen a link.
    return max(0, elapsed) / per_day


def days_since(since: datetime, now: datetime) -> float:
    """The age ``d`` of the formula, from two datetimes (to the microsecond)."""
    return _days((now - since) // _MICROSECOND, _DAY_US)


def days_between(since_ms: int, at_ms: int) -> float:
    """The age ``d`` of the formula, from epoch milliseconds (what Neo4j hands back)."""
    return _days(at_ms - since_ms, DAY_MS)


def effective_rating(settings: StrengthSettings, rating: int | None, days: float) -> float:
    """e = 1 + (r - 1) * 2^(-d / H); an unrated side counts as ``unrated_rating``."""
    value = settings.unrated_rating if rating is None else rating
    return 1 + (value - 1) * 2 ** (-days / settings.half_life_days)


def weaker_side_strength(
    settings: StrengthSettings, weaker_rating: int | None, days: float
) -> float:
    """A link's strength from its weaker side's rating: e / 10, in [0.1, 1]. Both sides
    fade at the same pace, so the weaker rating gives the weaker effective rating."""
    return effective_rating(settings, weaker_rating, days) / 10


def link_strength(
    settings: StrengthSettings, rating_a: int | None, rating_b: int | None, days: float
) -> float:
    """min(e(A->B), e(B->A)) / 10, in [0.1, 1]."""
    return min(
        weaker_side_strength(settings, rating_a, days),
        weaker_side_strength(settings, rating_b, days),
    )


def band(strength: float) -> Band:
    if strength >= STRONG:
        return "strong"
    if strength >= GOOD:
        return "good"
    return "weak"


# The same formula in Cypher, for the graph queries that rank links in Neo4j (so a
# limit keeps the strongest) or hand Python a link's inputs to score. Fragments are
# built from the names of the query's own variables and read values only from the
# parameters of ``cypher_parameters``; each is the plain expression a query would
# otherwise spell out, so a query built from them plans and runs as before.


def cypher_parameters(settings: StrengthSettings, at_ms: int) -> dict[str, float]:
    """``$unrated``, ``$at_ms`` and ``$half_life_ms``, which the fragments read."""
    return {
        "unrated": settings.unrated_rating,
        "at_ms": at_ms,
        "half_life_ms": settings.half_life_days * DAY_MS,
    }


def cypher_link_inputs(
    relationship: LiteralString, low: LiteralString, high: LiteralString, since_ms: LiteralString
) -> LiteralString:
    """``WITH`` items naming a ``KNOWS``'s inputs: each side's rating (an unrated side
    counts as ``$unrated``) and, as epoch ms, when it starts to fade (its last
    interaction, else its creation)."""
    return (
        "coalesce(" + relationship + ".rating_low, $unrated) AS " + low + ", "
        "coalesce(" + relationship + ".rating_high, $unrated) AS " + high + ", "
        "coalesce(" + relationship + ".last_interaction_at, " + relationship + ".created_at)"
        ".epochMillis AS " + since_ms
    )


def cypher_weaker(low: LiteralString, high: LiteralString) -> LiteralString:
    """The weaker side's rating, the ``weaker_rating`` of ``weaker_side_strength``."""
    return "CASE WHEN " + low + " < " + high + " THEN " + low + " ELSE " + high + " END"


def cypher_decay(since_ms: LiteralString) -> LiteralString:
    """2^(-d / H), with ``d`` as ``days_between(since_ms, $at_ms)``."""
    return (
        "2.0 ^ (-(CASE WHEN $at_ms > " + since_ms + " THEN $at_ms - " + since_ms + " ELSE 0 END)"
        " / $half_life_ms)"
    )


def cypher_rank(weaker: LiteralString, since_ms: LiteralString) -> LiteralString:
    """(r - 1) * decay, which is 10 * strength - 1: links sort by it as by strength."""
    return "(" + weaker + " - 1) * " + cypher_decay(since_ms)
