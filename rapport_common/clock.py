"""The one notion of "now". Code that needs the time is handed a ``Clock`` (the API and
the graph service through ``app.state.clock``, the worker through its ``ctx``), so a test
can move time for a whole service at once. Only this module reads the system's clock.

Durations (``time.monotonic``) and timestamps PostgreSQL writes itself (``now()``) are
not "now" in this sense and do not go through a ``Clock``.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns an aware UTC datetime."""


def system_clock() -> datetime:
    return datetime.now(UTC)


class SteppingClock:
    """Stands still until moved: the clock tests hand a service to move its time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start if start is not None else system_clock()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by ``timedelta(**delta)``, e.g. ``advance(days=2, minutes=1)``."""
        self.now += timedelta(**delta)
