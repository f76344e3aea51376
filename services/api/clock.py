"""The API's notion of "now": the ``Clock`` in ``app.state.clock`` (a test puts its own
there to move time), else the system clock."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from rapport_common.clock import Clock, system_clock


async def get_clock(request: Request) -> Clock:
    clock: Clock = getattr(request.app.state, "clock", system_clock)
    return clock


async def get_now(clock: Annotated[Clock, Depends(get_clock)]) -> datetime:
    return clock()


Now = Annotated[datetime, Depends(get_now)]
