"""Anti-spam: a weekly send limit, a cap on open invitations, and throttling of inviters
whose recent invitations are mostly declined, reported or falsely name-dropped.

Answers 429 with ``Retry-After`` and the IETF ``RateLimit`` / ``RateLimit-Policy`` fields.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapport_common.settings import InvitationSettings
from rapport_common.web.problems import Problem
from services.api.invitations.repository import InvitationRepository
from services.api.invitations.send_state import WEEK, SendingRecord

WEEK_SECONDS = int(WEEK.total_seconds())
PENDING_RETRY_SECONDS = 24 * 3600


class TooManyInvitations(Problem):
    status, slug, title = 429, "invitation-limit", "Invitation limit reached"


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"weekly";q={self.limit};w={WEEK_SECONDS}',
            "RateLimit": f'"weekly";r={self.remaining};t={self.reset_seconds}',
        }


async def take_quota(
    repository: InvitationRepository,
    settings: InvitationSettings,
    inviter: uuid.UUID,
    now: datetime,
) -> Quota:
    """Check every limit for one more invitation, or raise 429. Locks the inviter's row
    (writing a new version of it: ``quick_send``), so concurrent sends by one member are
    counted one after the other."""
    await repository.lock_inviter(inviter)
    record = await repository.sending_record(inviter, *record_windows(settings, now), now)
    return await check_quota(repository, settings, inviter, now, record)


def record_windows(settings: InvitationSettings, now: datetime) -> tuple[datetime, datetime]:
    """Since when ``sending_record`` counts: the week, and the throttling window."""
    return now - WEEK, now - timedelta(days=settings.throttle_window_days)


def _weekly_limit(settings: InvitationSettings, record: SendingRecord) -> tuple[int, bool]:
    """The weekly limit that applies, and whether it is the throttled one."""
    throttled = record.decided >= settings.throttle_min_decided and (
        record.negative / record.decided >= settings.throttle_negative_share
    )
    return (settings.throttled_weekly_limit if throttled else settings.weekly_limit), throttled


def quota_if_allowed(
    settings: InvitationSettings, now: datetime, record: SendingRecord
) -> Quota | None:
    """What ``check_quota`` answers when one more invitation is within every limit;
    None when it would refuse."""
    limit, _ = _weekly_limit(settings, record)
    if record.sent_this_week >= limit or record.open >= settings.pending_cap:
        return None
    oldest = record.oldest_this_week
    reset = int((oldest + WEEK - now).total_seconds()) if oldest else WEEK_SECONDS
    return Quota(limit, limit - record.sent_this_week - 1, max(reset, 0))


async def check_quota(
    repository: InvitationRepository,
    settings: InvitationSettings,
    inviter: uuid.UUID,
    now: datetime,
    record: SendingRecord,
) -> Quota:
    """``take_quota`` on a record read after the inviter's send lock was taken."""
    limit, throttled = _weekly_limit(settings, record)
    if record.sent_this_week >= limit:
        sent = await repository.sent_since(inviter, now - WEEK)
        # The count drops below the limit when the (len - limit + 1)-th oldest leaves.
        frees_at = sent[len(sent) - limit] + WEEK
        retry = max(1, int((frees_at - now).total_seconds()) + 1)
        why = (
            "Many of your recent invitations were declined or reported, so your weekly "
            f"limit is {limit} for now."
            if throttled
            else f"You can send {limit} invitations a week."
        )
        raise TooManyInvitations(
            f"{why} You can send the next one in {retry // 3600} h {retry % 3600 // 60} min.",
            headers={"Retry-After": str(retry), **Quota(limit, 0, retry).headers()},
            throttled=throttled,
        )
    if record.open >= settings.pending_cap:
        raise TooManyInvitations(
            f"You have {record.open} invitations waiting for an answer, the most allowed at "
            "once; withdraw some or wait for answers.",
            headers={
                "Retry-After": str(PENDING_RETRY_SECONDS),
                "RateLimit-Policy": f'"pending";q={settings.pending_cap}',
                "RateLimit": f'"pending";r=0;t={PENDING_RETRY_SECONDS}',
            },
        )
    quota = quota_if_allowed(settings, now, record)
    assert quota is not None  # within both limits, as checked above
    return quota
