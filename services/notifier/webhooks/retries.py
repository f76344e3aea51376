"""When to try a failed message again: the configured schedule with jitter, or later if
the receiver asked for it with ``Retry-After``."""

import random
from datetime import datetime
from email.utils import parsedate_to_datetime

# Jitter spreads the retries of many messages that failed together (a receiver outage).
JITTER = 0.1
# A receiver cannot park a message for longer than a day with Retry-After.
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from ``now``; the header holds either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def next_delay(schedule: list[int], failures: int, retry_after: float | None) -> float | None:
    """Seconds before the next attempt after ``failures`` failed attempts in this round,
    or None when the schedule is exhausted."""
    if failures >= len(schedule):
        return None
    delay = schedule[failures] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 (not a secret)
    if retry_after is not None and retry_after > delay:
        return retry_after
    return delay
