"""What a run measures and where its processes listen: the sizes, the ports, the knobs.

Every number a reader may want to change for a rerun is here, next to why it is what it
is. The bench stack's own ports (PostgreSQL 35432, Redis 36379, Neo4j 37687) come from
``deploy/local/stack.sh`` through the ``RAPPORT_*`` environment.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
STATE = ROOT / ".local" / "bench"
DATA = STATE / "data"
WORK = STATE / "bench-run"
NEO4J_PID_FILE = STATE / "run" / "neo4j.pid"
# The java process itself (the pid file names its supervisor, stack.sh's loop).
NEO4J_CHILD_FILE = STATE / "run" / "neo4j.child"

# The moment every strength is computed for: ages in the generated data count back
# from it and every path query passes it as ``at``, so a rerun computes the same scores.
AT = datetime(2026, 1, 1, tzinfo=UTC)
SEED = 20260101

# Processes the bench starts itself, on loopback.
API_PORT = 39000
GRAPH_PORT = 39001
NOTIFIER_HEALTH_PORT = 39002
REFERENCE_PORT = 39003
SMTP_PORT = 39025


@dataclass(frozen=True)
class Scale:
    name: str
    members: int
    connections: int  # the generator's target; duplicates it draws are dropped
    market_areas: int
    hub_cap: int  # the most connections a hub may have
    # Measurement 1: introduction paths.
    path_pairs: int  # per distance (2 and 3)
    straightforward_samples: int  # the naive variable-length query, slow around hubs
    checked_pairs: int  # compared with the brute-force answer
    # Measurement 4: the online importer too, or only the offline one (at 1m the online
    # one would take 10 minutes more and prove nothing new).
    online_import: bool = True
    # The bench stack's Neo4j (the Makefile's bench target sets the same): the page cache
    # holds the whole store (about 150 bytes a connection on disk).
    neo4j_heap: str = "4g"
    neo4j_pagecache_mb: int = 3_072
    # What a full run measures (a complete run writes bench/results/<scale>.json).
    steps: tuple[str, ...] = ("import", "paths", "notifier", "api", "search")
    # Measurement 6: searches by the hubs, at concurrency 1 (fewer at 1m, where one takes
    # seconds: their 2nd degree is hundreds of thousands of members).
    search_hub_requests: int = 200


SCALES = {
    "10k": Scale("10k", 10_000, 250_000, 10, 2_500, 800, 100, 50),
    "100k": Scale("100k", 100_000, 2_500_000, 40, 8_000, 800, 100, 50),
    # The scale curve's top: loaded offline only; the API and notifier measurements do not
    # depend on the network's size and are left out. Fewer straightforward queries (most
    # hit their 5 s timeout around hubs of 20,000) and brute-force checks (minutes each
    # in Python around such hubs).
    "1m": Scale(
        "1m", 1_000_000, 25_000_000, 100, 20_000, 800, 20, 20,
        online_import=False, neo4j_pagecache_mb=4_096, steps=("import", "paths", "search"),
        search_hub_requests=20,
    ),
}  # fmt: skip

# Measurement 1. The warm-up runs on pairs of its own (seed SEED + 1), never measured:
# Neo4j answers its first thousand or so reads after a start or a bulk load with
# outliers of 100-200 ms (page cache and JIT warming up; none in a second pass over the
# same pairs), which 200 calls did not cover.
PATH_WARMUP = 4_000  # Neo4j's JIT keeps cutting a search's cost up to about 4,000 calls
# The graph service fills members' degrees in the background after an import (25 s at
# 100k); the paths step waits for it, at most this long.
DEGREE_FILL_SECONDS = 900.0
PATH_WARMUP_PAIRS = 500  # per distance
PATH_LATENCY_REQUESTS = 1_000  # at concurrency 1, per side
PATH_WINDOW_SECONDS = 20.0  # at concurrency 16, per side, split into alternating rounds
PATH_CONCURRENCY = 16
REFERENCE_TIMEOUT_SECONDS = 5.0
ROUNDS = 2

# Measurement 2.
API_MEMBERS = 300  # 44,850 pairs, each used once by the API mix; registering is argon2-bound
API_CONCURRENCY = 64
API_WARMUP_SECONDS = 5.0
API_WINDOW_SECONDS = 30.0  # per side, split into alternating rounds

# Measurement 3.
DECLINES = 10_000
# Offered at 0.065x the bare insert measured in the step (bench/m_notifier.py).
NOTE_DEADLINE_SECONDS = 30.0  # after the last decline, how long notes may still arrive
# Then the notifier's capacity: declined with it stopped, drained once it starts.
DRAIN_DECLINES = 5_000
DRAIN_DEADLINE_SECONDS = 120.0  # after the notifier is ready again

# Measurement 6. The query sequence is long enough that no step repeats another's.
SEARCH_SEARCHERS = 200
SEARCH_QUERIES = 20_000
SEARCH_WARMUP = 300  # at concurrency 16, never measured
SEARCH_LATENCY_REQUESTS = 1_000  # at concurrency 1
SEARCH_WINDOW_SECONDS = 20.0  # at concurrency 16
SEARCH_CONCURRENCY = 16

# Settings of the processes under test, raised so that the bench measures throughput
# rather than the anti-spam limits (README: "Stop invitation spam").
SERVICE_ENV = {
    "RAPPORT_INVITATIONS__WEEKLY_LIMIT": "100000000",
    "RAPPORT_INVITATIONS__PENDING_CAP": "100000000",
    "RAPPORT_INVITATIONS__THROTTLE_MIN_DECIDED": "100000000",
    "RAPPORT_SEARCH__DAILY_LIMIT": "100000000",
    "RAPPORT_AUTH__ACCESS_TOKEN_MINUTES": "600",
    "RAPPORT_GRAPH__URL": f"http://127.0.0.1:{GRAPH_PORT}",
    "RAPPORT_GRAPH__PORT": str(GRAPH_PORT),
    "RAPPORT_API__PORT": str(API_PORT),
    "RAPPORT_NOTIFIER__PORT": str(NOTIFIER_HEALTH_PORT),
    "RAPPORT_SMTP__PORT": str(SMTP_PORT),
}
