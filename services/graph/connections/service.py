"""A member's own connections: strength now (or at ``at``), and the network health report."""

import math
from datetime import datetime, timedelta
from typing import Any, get_args

from rapport_common.events import HowWeMet
from rapport_common.settings import StrengthSettings
from rapport_common.strength import (
    EPOCH,
    cypher_parameters,
    days_between,
    effective_rating,
    epoch_ms,
    link_strength,
)
from rapport_common.web.problems import NotFound
from services.graph.connections import queries
from services.graph.connections.schemas import (
    ConnectionOut,
    ConnectionsOut,
    FadingOut,
    HealthOut,
    WeedOutOut,
)
from services.graph.database import Graph

MAX_CONNECTIONS = 10_000
# Network health thresholds (docs/graph.md, "Network health").
FADING_DROP = 2
WEED_OUT_RATING = 2
WEED_OUT_STALE_RATING = 3
WEED_OUT_STALE_DAYS = 90


def _moment(ms: int | None) -> datetime | None:
    return None if ms is None else EPOCH + timedelta(milliseconds=ms)


def _connection(settings: StrengthSettings, row: list[Any], at_ms: int) -> ConnectionOut:
    member_id, mine, theirs, how_we_met, connected_ms, interaction_ms = row
    days = days_between(connected_ms if interaction_ms is None else interaction_ms, at_ms)
    return ConnectionOut(
        member_id=member_id,
        my_rating=mine,
        my_effective_rating=None if mine is None else effective_rating(settings, mine, days),
        strength=link_strength(settings, mine, theirs, days),
        how_we_met=how_we_met,
        connected_at=EPOCH + timedelta(milliseconds=connected_ms),
        last_interaction_at=_moment(interaction_ms),
    )


async def list_connections(
    graph: Graph, settings: StrengthSettings, member_id: str, at: datetime, limit: int
) -> ConnectionsOut:
    at_ms = epoch_ms(at)
    [result] = await graph.read(
        queries.MEMBER_CONNECTIONS,
        member_id=member_id,
        limit=limit,
        **cypher_parameters(settings, at_ms),
    )
    connections = [_connection(settings, row, at_ms) for row in result["connections"]]
    connections.sort(key=lambda c: (-c.strength, str(c.member_id)))
    return ConnectionsOut(connections=connections)


async def read_connection(
    graph: Graph, settings: StrengthSettings, member_id: str, other_id: str, at: datetime
) -> ConnectionOut:
    [result] = await graph.read(queries.ONE_CONNECTION, member_id=member_id, other_id=other_id)
    if not result["connections"]:
        raise NotFound(f"Member {member_id} is not connected to {other_id}.")
    return _connection(settings, result["connections"][0], epoch_ms(at))


def _rounded(value: float) -> int:
    # Half up, not Python's half-to-even: 5.5 belongs in bucket 6.
    return math.floor(value + 0.5)


async def network_health(
    graph: Graph, settings: StrengthSettings, member_id: str, at: datetime
) -> HealthOut:
    """Unrated-by-me connections count in ``total`` and ``by_how_we_met`` only."""
    at_ms = epoch_ms(at)
    [result] = await graph.read(queries.HEALTH_ROWS, member_id=member_id)
    rows = result["connections"]
    histogram = {str(bucket): 0 for bucket in range(1, 11)}
    by_how_we_met = dict.fromkeys(get_args(HowWeMet), 0)
    fading: list[FadingOut] = []
    weed_out: list[WeedOutOut] = []
    for other_id, mine, how_we_met, since_ms in rows:
        by_how_we_met[how_we_met] = by_how_we_met.get(how_we_met, 0) + 1
        if mine is None:
            continue
        days = days_between(since_ms, at_ms)
        effective = effective_rating(settings, mine, days)
        histogram[str(min(10, max(1, _rounded(effective))))] += 1
        if effective <= mine - FADING_DROP:
            fading.append(
                FadingOut(member_id=other_id, my_rating=mine, my_effective_rating=effective)
            )
        whole_days = int(days)
        if mine <= WEED_OUT_RATING or (
            mine <= WEED_OUT_STALE_RATING and whole_days >= WEED_OUT_STALE_DAYS
        ):
            weed_out.append(
                WeedOutOut(member_id=other_id, my_rating=mine, days_since_interaction=whole_days)
            )
    # The most faded first; the weakest, longest-silent links first.
    fading.sort(key=lambda f: (f.my_effective_rating - f.my_rating, str(f.member_id)))
    weed_out.sort(key=lambda w: (w.my_rating, -w.days_since_interaction, str(w.member_id)))
    return HealthOut(
        total=len(rows),
        effective_rating_histogram=histogram,
        fading=fading,
        weed_out=weed_out,
        by_how_we_met=by_how_we_met,
    )
