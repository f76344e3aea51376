"""Sign-in throttling: failed sign-ins are counted per account (the email tried) and per
client address over a sliding window, in PostgreSQL so that every API process sees the
same counts. Past either limit, sign-in answers 429 with ``Retry-After`` and the IETF
``RateLimit`` / ``RateLimit-Policy`` fields, without looking at the password.

Nothing here depends on whether the email has an account: an unknown email is counted,
throttled and answered exactly as a known one.

An attempt counts as a failure from before its password is checked and is forgiven if
it succeeds, so concurrent guesses cannot all slip in under the limit.
"""

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapport_common.settings import AuthSettings
from rapport_common.web.problems import Problem
from services.api.auth.repository import SignInFailureRepository


class TooManySignInFailures(Problem):
    status, slug, title = 429, "sign-in-throttled", "Too many failed sign-ins"


@dataclass(frozen=True)
class Counter:
    policy: str
    key_hash: str
    limit: int


@dataclass(frozen=True)
class Attempt:
    """An admitted sign-in attempt, already counted as a failure under both counters."""

    account_key_hash: str
    address_failure_id: int


def normalised_email(email: str) -> str:
    return email.strip().casefold()


def client_network(host: str | None) -> str:
    """What the per-address counter counts: the IPv4 address, or the IPv6 /64, since one
    IPv6 client can usually pick any address of its /64."""
    try:
        ip = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def keyed_hash(settings: AuthSettings, policy: str, value: str) -> str:
    # Keyed, so the table does not list which emails were tried to anyone without the secret.
    secret = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(secret, f"{policy}:{value}".encode(), hashlib.sha256).hexdigest()


def retry_seconds(
    failed_at: list[datetime], limit: int, window: timedelta, now: datetime
) -> int | None:
    """Seconds until fewer than ``limit`` failures are left in the window, None if already."""
    if len(failed_at) < limit:
        return None
    # The count drops below the limit when the (len - limit + 1)-th oldest leaves.
    frees_at = failed_at[len(failed_at) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


async def admit_sign_in(
    repository: SignInFailureRepository,
    settings: AuthSettings,
    email: str,
    client_host: str | None,
    now: datetime,
) -> Attempt:
    """Count this attempt as a failure of its account and its address, or raise 429 if
    either has reached its limit. The caller commits at once, so that other processes
    see the attempt while its password is being checked."""
    window = timedelta(minutes=settings.sign_in_window_minutes)
    account = Counter(
        "account",
        keyed_hash(settings, "account", normalised_email(email)),
        settings.sign_in_failures_per_account,
    )
    address = Counter(
        "address",
        keyed_hash(settings, "address", client_network(client_host)),
        settings.sign_in_failures_per_address,
    )
    # Always the account first, then the address: two attempts never wait on each other
    # in opposite orders.
    await repository.lock(account.key_hash)
    await repository.lock(address.key_hash)
    recent = await repository.failures_since([account.key_hash, address.key_hash], now - window)
    blocked = [
        (retry, counter)
        for counter in (account, address)
        if (retry := retry_seconds(recent[counter.key_hash], counter.limit, window, now))
    ]
    if blocked:
        retry, counter = max(blocked, key=lambda pair: pair[0])
        policy = f"sign-in-{counter.policy}"
        raise TooManySignInFailures(
            "Too many failed sign-ins for this email or from this address; try again in "
            f"{math.ceil(retry / 60)} min.",
            headers={
                "Retry-After": str(retry),
                "RateLimit-Policy": (
                    f'"{policy}";q={counter.limit};w={int(window.total_seconds())}'
                ),
                "RateLimit": f'"{policy}";r=0;t={retry}',
            },
        )
    _, address_failure_id = await repository.add([account.key_hash, address.key_hash], now)
    await repository.sweep(before=now - window)
    return Attempt(account.key_hash, address_failure_id)


async def forgive_sign_in(repository: SignInFailureRepository, attempt: Attempt) -> None:
    """A right password clears the account's failures; the address keeps its earlier
    ones (a success must not buy an address ten more guesses at other accounts)."""
    await repository.forgive(attempt.account_key_hash, attempt.address_failure_id)
