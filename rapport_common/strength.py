"""The strength model (README, "Strength"), the one place its formula lives: in Python,
and as the Cypher fragments the graph service builds its queries from.

Each side privately rates the other 1-10; a rating fades towards 1 with a half-life,
counted from the pair's last interaction (or from when they connected). A link is as
strong as its weaker side, so a path through it never overstates either member.
"""

import math
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, LiteralString

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


def cypher_parameters(settings: StrengthSettings, at_ms: int) -> dict[str, Any]:
    """``$unrated``, ``$at_ms``, ``$half_life_ms`` and ``$rank_logs``, which the
    fragments read."""
    return {**rank_parameters(settings), "at_ms": at_ms}


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


# The rank key (docs/graph.md, "Storage"): links sort by strength at any moment ``at`` as
# by ``log2(r - 1) + min(since, at) / H``, since 2^(-at / H) is a factor common to every
# link's 10 * strength - 1 = (r - 1) * 2^(-(at - since) / H). When ``at`` is not before
# ``since`` that is ``log2(r - 1) + since / H``, the same at every moment: each ``KNOWS``
# stores it as ``rank_key`` (with ``since_ms``), computed where the relationship is
# written, so a search sorting a hub's links reads two properties per link (``since_ms``
# to check it is not after ``at``) instead of four and a formula (bench/README.md,
# "Findings", session 24). A weaker side of 1 has strength
# 0.1 at any age: its key is ``RANK_KEY_FLOOR``, below every other, and such links tie
# (then sort by member id, as equal strengths do). The key depends on the model (H and the
# unrated rating): a graph records the models its keys were written with as
# ``RankModel`` nodes, and a search uses the stored keys only when none differs from its
# own (``cypher_keyed``).
RANK_KEY_FLOOR = -1.0e300
# log2(r - 1) for r = 0..10, indexed by rating; passed as ``$rank_logs`` so that Neo4j adds
# exactly the values Python does.
RANK_LOGS = tuple([RANK_KEY_FLOOR, RANK_KEY_FLOOR] + [math.log2(r - 1) for r in range(2, 11)])


def rank_parameters(settings: StrengthSettings) -> dict[str, Any]:
    """``$unrated``, ``$half_life_ms`` and ``$rank_logs``: what a rank key is made of."""
    return {
        "unrated": settings.unrated_rating,
        "half_life_ms": settings.half_life_days * DAY_MS,
        "rank_logs": list(RANK_LOGS),
    }


def rank_key(
    settings: StrengthSettings, rating_low: int | None, rating_high: int | None, since_ms: int
) -> float:
    """The stored ``rank_key`` of a link: ``log2(weaker - 1) + since_ms / H``."""
    unrated = settings.unrated_rating
    weaker = min(
        unrated if rating_low is None else rating_low,
        unrated if rating_high is None else rating_high,
    )
    return RANK_LOGS[weaker] + since_ms / (settings.half_life_days * DAY_MS)


def cypher_rank_key(weaker: LiteralString, since_ms: LiteralString) -> LiteralString:
    """``rank_key`` at ``$at_ms``: a link whose ``since`` is after ``at`` ranks as new."""
    return (
        "$rank_logs["
        + weaker
        + "] + (CASE WHEN "
        + since_ms
        + " < $at_ms THEN "
        + since_ms
        + " ELSE $at_ms END) / $half_life_ms"
    )


def cypher_store_rank(relationship: LiteralString) -> LiteralString:
    """``SET`` items writing a ``KNOWS``'s ``since_ms`` and ``rank_key`` from its other
    properties, as ``rank_key`` computes them (``rank_parameters``)."""
    since: LiteralString = (
        "coalesce(" + relationship + ".last_interaction_at, " + relationship + ".created_at)"
        ".epochMillis"
    )
    weaker = cypher_weaker(
        "coalesce(" + relationship + ".rating_low, $unrated)",
        "coalesce(" + relationship + ".rating_high, $unrated)",
    )
    return (
        relationship
        + ".since_ms = "
        + since
        + ", "
        + relationship
        + ".rank_key = $rank_logs["
        + weaker
        + "] + "
        + since
        + " / $half_life_ms"
    )


def cypher_keyed() -> LiteralString:
    """Whether the stored keys may be used: no ``RankModel`` of another model is
    recorded (a function, not a constant: the graph service plans every query constant
    of its query modules at start)."""
    return (
        "NOT EXISTS { MATCH (model:RankModel) "
        "WHERE model.half_life_ms <> $half_life_ms OR model.unrated <> $unrated }"
    )


# Recorded by every writer of rank keys, in the statement that writes them.
CYPHER_RECORD_MODEL: LiteralString = (
    "MERGE (:RankModel {half_life_ms: $half_life_ms, unrated: $unrated})"
)


def cypher_rank_order(relationship: LiteralString, keyed: LiteralString) -> LiteralString:
    """The key a ``KNOWS`` sorts by at ``$at_ms`` (descending: strongest first): the
    stored one when ``keyed`` and the link's ``since`` is not after ``at``; otherwise
    computed from its inputs, to the same value (a graph from before the keys, a link
    whose ``since`` is after ``at``, another model). Only the first branch is evaluated
    for a keyed link, so a sort reads two properties per link."""
    r = relationship
    weaker = cypher_weaker(
        "coalesce(" + r + ".rating_low, $unrated)", "coalesce(" + r + ".rating_high, $unrated)"
    )
    since: LiteralString = (
        "coalesce(" + r + ".last_interaction_at, " + r + ".created_at).epochMillis"
    )
    return (
        "CASE WHEN "
        + keyed
        + " AND "
        + r
        + ".since_ms <= $at_ms THEN "
        + r
        + ".rank_key ELSE "
        + cypher_rank_key(weaker, since)
        + " END"
    )
