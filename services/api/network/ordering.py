"""The order of the graph's lists, and their cursors (``services/api/pagination.py``).

The graph ranks mutuals and paths by bands (``privacy.rank_weight``), never by a
rating; each list here sorts by what its rows show, so a page's cursor is written from
the last row shown and carries nothing the viewer did not see (docs/privacy.md): a
mutual's band and id, a path's bands and first intermediary, my own ratings of my own
connections in my network's health.
"""

import math
import uuid
from typing import get_args

from rapport_common.domain.privacy import BAND_WEIGHTS
from rapport_common.strength import Band
from services.api.network.schemas import MutualOut, PathOut, RatedContactOut, WeedOutCandidate

BANDS = set(get_args(Band))
MutualKey = tuple[float, str]
PathKey = tuple[float, int, str]
FadingKey = tuple[float, str]
WeedOutKey = tuple[int, float, str]


def _band(name: str) -> Band:
    if name not in BANDS:
        raise ValueError(f"not a band: {name!r}")
    band: Band = name  # type: ignore[assignment]  # checked just above
    return band


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


# Mutuals: the one who knows them best first (their band), then by member id.
def mutual_key(mutual: MutualOut) -> MutualKey:
    return (-BAND_WEIGHTS[mutual.band_with_them], str(mutual.member_id))


def mutual_cursor(mutual: MutualOut) -> tuple[str, uuid.UUID]:
    return mutual.band_with_them, mutual.member_id


def after_mutual(band: str, member_id: uuid.UUID) -> MutualKey:
    return (-BAND_WEIGHTS[_band(band)], str(member_id))


# Paths: the product of the links' band weights (the graph's score), fewer hops, then
# the first intermediary (one path per first intermediary, so it decides a tie).
def _score(bands: list[Band]) -> float:
    return round(math.prod(BAND_WEIGHTS[band] for band in bands), 6)


def path_key(path: PathOut) -> PathKey:
    bands = [link.band for link in path.links]
    return (-_score(bands), path.hops, str(path.intermediaries[0].member_id))


def path_cursor(path: PathOut) -> tuple[str, uuid.UUID]:
    return ",".join(link.band for link in path.links), path.intermediaries[0].member_id


def after_path(bands: str, first: uuid.UUID) -> PathKey:
    named = [_band(name) for name in bands.split(",")]
    if len(named) not in (2, 3):
        raise ValueError("a path has 2 or 3 links")
    return (-_score(named), len(named), str(first))


# Fading: the most faded first (my effective rating furthest below my rating).
def fading_key(contact: RatedContactOut) -> FadingKey:
    return (contact.my_effective_rating - contact.my_rating, str(contact.member_id))


def fading_cursor(contact: RatedContactOut) -> tuple[str, uuid.UUID]:
    return f"{contact.my_effective_rating!r}/{contact.my_rating}", contact.member_id


def after_fading(key: str, member_id: uuid.UUID) -> FadingKey:
    effective, rating = key.split("/")
    return (_finite(effective) - int(rating), str(member_id))


# To weed out: the lowest rating first, then the longest silent.
def weed_out_key(candidate: WeedOutCandidate) -> WeedOutKey:
    return (candidate.my_rating, -candidate.days_since_interaction, str(candidate.member_id))


def weed_out_cursor(candidate: WeedOutCandidate) -> tuple[str, uuid.UUID]:
    return (
        f"{candidate.my_rating}/{candidate.days_since_interaction!r}",
        candidate.member_id,
    )


def after_weed_out(key: str, member_id: uuid.UUID) -> WeedOutKey:
    rating, days = key.split("/")
    return (int(rating), -_finite(days), str(member_id))
