"""How often account emails may be asked for: a password reset per address and per
client address, a verification email or an email change per member. Counted like failed
sign-ins (``services/api/auth/limits.py``): keyed hashes in PostgreSQL, a sliding
window, 429 with ``Retry-After`` and the ``RateLimit`` fields past a limit.

A reset request is counted whether or not the address has an account, and answered
the same, so the limits tell nothing about who is a member."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapport_common.settings import Settings
from rapport_common.web.problems import Problem
from services.api.accounts.repository import AccountRequestRepository
from services.api.auth.limits import keyed_hash, retry_seconds


class TooManyAccountEmails(Problem):
    status, slug, title = 429, "account-emails-throttled", "Too many account emails asked for"


@dataclass(frozen=True)
class Limit:
    """``limit`` requests of ``policy`` per window for one ``value`` (an address, a
    client, a member id)."""

    policy: str
    value: str
    limit: int


async def admit(
    repository: AccountRequestRepository,
    settings: Settings,
    limits: list[Limit],
    now: datetime,
    what: str,
) -> None:
    """Count this request under every limit, or raise 429 if one is reached (then
    nothing is counted)."""
    window = timedelta(minutes=settings.accounts.request_window_minutes)
    keyed = [(keyed_hash(settings.auth, limit.policy, limit.value), limit) for limit in limits]
    for key_hash, _ in keyed:  # always in the order given: no two requests wait crosswise
        await repository.lock(key_hash)
    recent = await repository.requested_since([key_hash for key_hash, _ in keyed], now - window)
    blocked = [
        (retry, limit)
        for key_hash, limit in keyed
        if (retry := retry_seconds(recent[key_hash], limit.limit, window, now))
    ]
    if blocked:
        retry, limit = max(blocked, key=lambda pair: pair[0])
        raise TooManyAccountEmails(
            f"Too many {what} asked for; try again in {math.ceil(retry / 60)} min.",
            headers={
                "Retry-After": str(retry),
                "RateLimit-Policy": (
                    f'"{limit.policy}";q={limit.limit};w={int(window.total_seconds())}'
                ),
                "RateLimit": f'"{limit.policy}";r=0;t={retry}',
            },
        )
    await repository.add([key_hash for key_hash, _ in keyed], now)
    await repository.sweep(before=now - window)
