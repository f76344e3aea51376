"""`/metrics` on every service: the counts move with real traffic, and every metric the
alert rules and the dashboard use is exported."""

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.settings import Settings
from services.notifier.health import create_health_app
from services.notifier.queue import JobQueue
from tests.factories import sign_in

MONITORING = Path(__file__).parent.parent / "deploy" / "monitoring"
# Series Prometheus makes itself, not our services.
BUILT_IN = {"up"}

Labels = dict[str, str]


async def _scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def _value(exposition: str, sample_name: str, **labels: str) -> float:
    """The sum of the samples called ``sample_name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == sample_name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


async def test_api_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client, "Ada Lovelace")
    route = {"service": "api", "method": "GET", "route": "/v1/members/{member_id}"}
    before = await _scrape(client)
    for _ in range(3):
        found = await client.get(f"/v1/members/{ada.member_id}", headers=ada.headers)
        assert found.status_code == 200
    missing = await client.get(
        "/v1/members/00000000-0000-0000-0000-000000000000", headers=ada.headers
    )
    assert missing.status_code == 404
    after = await _scrape(client)

    def moved(sample: str, **labels: str) -> float:
        return _value(after, sample, **labels) - _value(before, sample, **labels)

    assert moved("rapport_http_requests_total", **route, status="200") == 3
    assert moved("rapport_http_requests_total", **route, status="404") == 1
    assert moved("rapport_http_request_duration_seconds_count", **route) == 4
    # A path nobody routes is one label, whatever the path: no label per client path.
    await client.get("/no/such/path/12345")
    unmatched = _value(await _scrape(client), "rapport_http_requests_total", route="unmatched")
    assert unmatched >= 1
    assert "/no/such/path/12345" not in await _scrape(client)


async def test_the_graph_service_counts_its_requests(graph_client: httpx.AsyncClient) -> None:
    labels = {"service": "graph", "route": "/livez", "status": "200"}
    before = _value(await _scrape(graph_client), "rapport_http_requests_total", **labels)
    assert (await graph_client.get("/livez")).status_code == 200
    after = _value(await _scrape(graph_client), "rapport_http_requests_total", **labels)
    assert after - before == 1


async def test_the_notifier_reports_the_outbox_backlog_and_its_age(
    settings: Settings,
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    run_worker: Callable[..., Awaitable[None]],
) -> None:
    ctx: dict[str, Any] = {"settings": settings, "sessionmaker": committed_db, "redis": queue.redis}
    transport = httpx.ASGITransport(app=create_health_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as notifier:
        # Her registration's events wait in the outbox; she is sent a verification email.
        await sign_in(committed_client, "Grace Hopper", verified=False)
        waiting = await _scrape(notifier)
        succeeded = {"function": "handle_events", "outcome": "succeeded"}
        handled_before = _value(waiting, "rapport_jobs_total", **succeeded)
        sent_before = _value(waiting, "rapport_emails_total", outcome="sent")
        assert _value(waiting, "rapport_outbox_pending_events") >= 1
        assert _value(waiting, "rapport_outbox_oldest_pending_age_seconds") > 0
        assert _value(waiting, "rapport_outbox_dead_events") == 0

        await run_worker()
        handled = await _scrape(notifier)
    assert _value(handled, "rapport_outbox_pending_events") == 0
    assert _value(handled, "rapport_outbox_oldest_pending_age_seconds") == 0
    jobs = _value(handled, "rapport_jobs_total", **succeeded)
    assert jobs - handled_before >= 1
    assert _value(handled, "rapport_job_duration_seconds_count", function="handle_events") >= 1
    # The new member's verification email went out through the SMTP catcher.
    assert _value(handled, "rapport_emails_total", outcome="sent") - sent_before >= 1


def _metrics_used() -> set[str]:
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    expressions += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    names = set()
    for expression in expressions:
        names |= set(re.findall(r"\b(rapport_\w+|up)\b(?=\s*[{\[)>=<]|\s*$)", expression))
    return names


def _family(sample_name: str) -> str:
    return re.sub(r"_(total|bucket|count|sum|created)$", "", sample_name)


async def test_every_metric_the_alerts_and_the_dashboard_use_is_exported(
    client: httpx.AsyncClient, graph_client: httpx.AsyncClient
) -> None:
    used = _metrics_used()
    assert {"rapport_outbox_oldest_pending_age_seconds", "rapport_webhook_deliveries_total"} <= used
    exported = {
        family.name
        for service in (client, graph_client)
        for family in text_string_to_metric_families(await _scrape(service))
    }
    missing = {name for name in used - BUILT_IN if _family(name) not in exported}
    assert not missing, f"used in deploy/monitoring but not exported: {sorted(missing)}"
