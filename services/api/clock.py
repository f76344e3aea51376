"""The API's notion of "now", a dependency so tests can move time."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from rapport_common.db import utcnow

Clock = Callable[[], datetime]


async def get_clock(request: Request) -> Clock:
    clock: Clock = getattr(request.app.state, "clock", utcnow)
    return clock


async def get_now(clock: Annotated[Clock, Depends(get_clock)]) -> datetime:
    return clock()


Now = Annotated[datetime, Depends(get_now)]
