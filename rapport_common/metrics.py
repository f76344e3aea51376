"""Every Prometheus metric Rapport exports, in one place (deploy/monitoring/ uses them).

Each service serves them on ``GET /metrics`` (rapport_common/web/health.py). The API and
the graph service run several uvicorn worker processes: with ``PROMETHEUS_MULTIPROC_DIR``
set (the stack script, the image and the manifests set it), every process writes its
values to files there and a scrape of any process reports the sum of all of them.
Without it (one process, the tests) the process's own values are reported.

Labels stay few and bounded: a route is its template (``/v1/invitations/{invitation_id}``),
never the path a client sent, and requests that match no route share one label.
"""

import os
import time
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# Each process writes its values there as it creates them: the folder must exist first.
# Emptying it is the job of whatever starts the processes (a stale file only adds a
# constant to counters, but it should not outlive a restart).
if MULTIPROCESS_DIR := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(MULTIPROCESS_DIR, exist_ok=True)

UNMATCHED_ROUTE = "unmatched"
# Seconds: from a cached read to a slow path query or an email's SMTP exchange.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "rapport_http_requests",
    "HTTP requests answered, by route template and status",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "rapport_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
DB_POOL_IN_USE = Gauge(
    "rapport_db_pool_connections_in_use",
    "PostgreSQL connections checked out of the pool",
    ["service"],
    multiprocess_mode="livesum",
)
NEO4J_QUERY_LATENCY = Histogram(
    "rapport_neo4j_query_duration_seconds",
    "Time for one Neo4j transaction, by kind of work",
    ["work"],
    buckets=LATENCY_BUCKETS,
)
JOBS = Counter(
    "rapport_jobs", "Worker jobs finished, by function and outcome", ["function", "outcome"]
)
JOB_LATENCY = Histogram(
    "rapport_job_duration_seconds",
    "Time a worker job ran, by function",
    ["function"],
    buckets=LATENCY_BUCKETS,
)
EMAILS = Counter(
    "rapport_emails",
    "Emails offered to the SMTP server, by outcome: sent, refused_for_good (5xx),"
    " refused_for_now (4xx) or server_unreachable",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "rapport_webhook_deliveries",
    "Webhook delivery attempts, by outcome",
    ["outcome"],
)
OUTBOX_PENDING = Gauge(
    "rapport_outbox_pending_events",
    "Outbox events not yet handled by every consumer (dead-lettered ones excluded)",
    multiprocess_mode="max",
)
OUTBOX_OLDEST_AGE = Gauge(
    "rapport_outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox event not yet handled by every consumer; 0 when none",
    multiprocess_mode="max",
)
OUTBOX_DEAD = Gauge(
    "rapport_outbox_dead_events",
    "Outbox events dead-lettered and waiting for an operator (rapport outbox dead)",
    multiprocess_mode="max",
)


def observe_request(
    service: str, scope: MutableMapping[str, Any], status: int, seconds: float
) -> None:
    route = scope.get("route")
    template = getattr(route, "path", None) or UNMATCHED_ROUTE
    method = scope.get("method", "")
    HTTP_REQUESTS.labels(service, method, template, str(status)).inc()
    HTTP_LATENCY.labels(service, method, template).observe(seconds)


def instrument_pool(engine: AsyncEngine, service: str) -> None:
    """Count connections in use as the pool hands them out and takes them back."""
    gauge = DB_POOL_IN_USE.labels(service)
    event.listen(engine.sync_engine.pool, "checkout", lambda *_: gauge.inc())
    event.listen(engine.sync_engine.pool, "checkin", lambda *_: gauge.dec())


P = ParamSpec("P")
R = TypeVar("R")


def timed_job(
    function: Callable[P, Awaitable[R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Count a worker job's outcome and time it; the job's name stays the same for arq."""
    name = function.__name__

    @wraps(function)
    async def job(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await function(*args, **kwargs)
            outcome = "succeeded"
            return result
        finally:
            JOBS.labels(name, outcome).inc()
            JOB_LATENCY.labels(name).observe(time.perf_counter() - started)

    return job


def exposition() -> tuple[bytes, str]:
    """This service's metrics in Prometheus' text format, and its content type."""
    if MULTIPROCESS_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
