"""One clear line when a dependency is missing at start-up, instead of a stack trace."""

import asyncio
import logging
from collections.abc import Awaitable

logger = logging.getLogger("rapport.startup")


async def report_unreachable(name: str, address: str, probe: Awaitable[None]) -> bool:
    """Try ``probe`` once; log one line naming the dependency if it fails.

    The service keeps running either way: ``/readyz`` reports the dependency as down
    and turns ready by itself once it answers.
    """
    try:
        await asyncio.wait_for(probe, 5.0)
    except Exception as exc:  # the line below is the whole report
        logger.error(
            "%s at %s is unreachable (%s: %s); start it with 'make up' or fix RAPPORT_%s__* "
            "settings. /readyz stays 503 until it answers.",
            name,
            address,
            type(exc).__name__,
            str(exc)[:200],
            name.upper(),
        )
        return False
    return True
