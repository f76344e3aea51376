"""Time arithmetic for the strength model in the graph service.

The formula itself lives in ``rapport_common.strength`` (shared with the API and the
notifier); this module converts Neo4j's millisecond timestamps into its inputs.
"""

from datetime import UTC, datetime, timedelta

from rapport_common.strength import Band, band, effective_rating, link_strength

DAY_MS = 86_400_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = [
    "DAY_MS",
    "Band",
    "as_utc",
    "band",
    "days_between",
    "effective_rating",
    "epoch_ms",
    "link_strength",
]


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, the unit Cypher hands back (``.epochMillis``)."""
    return (as_utc(moment) - EPOCH) // timedelta(milliseconds=1)


def as_utc(moment: datetime) -> datetime:
    """A naive time from a client is read as UTC rather than as the server's local time."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def days_between(since_ms: int, at_ms: int) -> float:
    # A clock before the reference (``at`` in the past) does not strengthen a link.
    return max(0, at_ms - since_ms) / DAY_MS
