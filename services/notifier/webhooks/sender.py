"""One real HTTP attempt at a webhook: checked by the SSRF guard, sent to the address
that was checked, never following redirects, bounded in time."""

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

import httpx

from rapport_common.settings import WebhookSettings
from rapport_common.webhooks import ssrf
from rapport_common.webhooks.signing import signature_header
from services.notifier.webhooks.retries import parse_retry_after

USER_AGENT = "Rapport-Webhooks/1.0"
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class Outcome:
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def headers_for(
    message_id: str, signing_secrets: list[str], body: str, now: datetime
) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(signing_secrets, message_id, timestamp, body),
    }


async def _post(
    target: ssrf.Target, headers: dict[str, str], body: str, seconds: float
) -> httpx.Response:
    # trust_env=False: a proxy taken from the environment would resolve the host itself,
    # and the address we checked would not be the one reached.
    async with httpx.AsyncClient(
        timeout=seconds, follow_redirects=False, trust_env=False
    ) as client:
        request = client.build_request(
            "POST",
            target.url,
            headers={**headers, "host": target.host_header},
            content=body.encode(),
            extensions={"sni_hostname": target.sni_hostname} if target.sni_hostname else {},
        )
        # The body is never read: a receiver cannot make the worker download anything.
        response = await client.send(request, stream=True)
        await response.aclose()
        return response


async def attempt(
    url: str, headers: dict[str, str], body: str, settings: WebhookSettings, now: datetime
) -> Outcome:
    """Send once. Every failure is described in the outcome, never raised."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    timeout = settings.timeout_seconds
    try:
        # One deadline for the whole attempt: httpx's timeouts apply to each read, so a
        # receiver trickling bytes could otherwise hold the worker indefinitely.
        async with asyncio.timeout(timeout):
            target = await ssrf.resolve(url, settings.allow_loopback)
            response = await _post(target, headers, body, timeout)
    except ssrf.UnsafeUrl as exc:
        return Outcome(elapsed(), error=f"refused ({exc.rule}): {exc.detail}"[:MAX_ERROR_LENGTH])
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(elapsed(), error=f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Outcome(elapsed(), error=error[:MAX_ERROR_LENGTH])
    status = response.status_code
    if 300 <= status < 400:
        # Following it would reach an address the guard never checked.
        location = response.headers.get("location") or "(no location)"
        error = f"redirect to {location[:200]} not followed"
        return Outcome(elapsed(), status_code=status, error=error)
    if not 200 <= status < 300:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        return Outcome(elapsed(), status_code=status, retry_after=retry_after)
    return Outcome(elapsed(), status_code=status)
