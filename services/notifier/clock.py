"""The worker's notion of "now": the ``Clock`` in the job context (a test puts its own
there to move time), else the system clock. Every job and cron reads it from here."""

from datetime import datetime
from typing import Any

from rapport_common.clock import Clock, system_clock


def clock_of(ctx: dict[str, Any]) -> Clock:
    clock: Clock = ctx.get("clock", system_clock)
    return clock


def now_of(ctx: dict[str, Any]) -> datetime:
    return clock_of(ctx)()
