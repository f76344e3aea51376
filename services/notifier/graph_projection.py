"""Hands graph-relevant events to the graph service, which applies them idempotently."""

import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import GRAPH_EVENT_TYPES, EventEnvelope
from rapport_common.settings import Settings
from services.notifier.errors import TransientError

logger = logging.getLogger(__name__)


def concerns(envelope: EventEnvelope) -> bool:
    """Whether ``project_to_graph`` has anything to do with the event."""
    return envelope.type in GRAPH_EVENT_TYPES


async def project_to_graph(
    ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession
) -> None:
    """Idempotent: the graph service ignores an event it has already applied."""
    if not concerns(envelope):
        return
    client: httpx.AsyncClient = ctx["graph_client"]
    settings: Settings = ctx["settings"]
    headers = settings.graph.auth_headers()
    if envelope.request_id:
        headers["x-request-id"] = envelope.request_id
    try:
        response = await client.post(
            "/internal/v1/events", json=envelope.model_dump(mode="json"), headers=headers
        )
    except httpx.HTTPError as exc:
        raise TransientError(f"graph service unreachable: {exc}") from exc
    # A refused service token is configuration, not the event: retried until it is fixed.
    if response.status_code >= 500 or response.status_code == 401:
        raise TransientError(f"graph service answered {response.status_code}")
    if response.status_code >= 400:
        # A 4xx means the event itself is wrong; retrying cannot fix it.
        logger.error(
            "graph service rejected event",
            extra={"status": response.status_code, "body": response.text[:500]},
        )
