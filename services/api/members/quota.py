"""The daily search limit, against scraping: each member may run
``settings.search.daily_limit`` searches per UTC day (docs/search.md).

Answers carry the IETF ``RateLimit`` / ``RateLimit-Policy`` fields; past the limit, 429
with ``Retry-After``."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.search import SearchUsage
from rapport_common.settings import SearchSettings
from rapport_common.web.problems import Problem

DAY_SECONDS = 24 * 3600


class SearchLimitReached(Problem):
    status, slug, title = 429, "search-limit", "Search limit reached"


@dataclass(frozen=True)
class SearchQuota:
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"daily";q={self.limit};w={DAY_SECONDS}',
            "RateLimit": f'"daily";r={self.remaining};t={self.reset_seconds}',
        }


def _seconds_to_next_day(now: datetime) -> int:
    utc = now.astimezone(UTC)
    midnight = datetime.combine(utc.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(1, int((midnight - utc).total_seconds()))


async def take_search_quota(
    session: AsyncSession, settings: SearchSettings, member_id: uuid.UUID, now: datetime
) -> SearchQuota:
    """Count one more search today, or raise 429. One statement, so concurrent searches
    by one member are counted one after the other; a refused search rolls back with its
    request and does not count."""
    day = now.astimezone(UTC).date()
    statement = (
        insert(SearchUsage)
        .values(member_id=member_id, day=day, searches=1)
        .on_conflict_do_update(
            index_elements=["member_id", "day"],
            set_={"searches": SearchUsage.searches + 1},
        )
        .returning(SearchUsage.searches)
    )
    searches = (await session.execute(statement)).scalar_one()
    reset = _seconds_to_next_day(now)
    limit = settings.daily_limit
    if searches > limit:
        quota = SearchQuota(limit, 0, reset)
        raise SearchLimitReached(
            f"You can run {limit} searches a day; the count starts again at midnight UTC, "
            f"in {reset // 3600} h {reset % 3600 // 60} min.",
            headers={"Retry-After": str(reset), **quota.headers()},
        )
    return SearchQuota(limit, limit - searches, reset)
