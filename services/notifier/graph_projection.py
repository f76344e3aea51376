"""Hands graph-relevant events to the graph service, which applies them idempotently."""

import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import GRAPH_EVENT_TYPES, EventEnvelope
from services.notifier.errors import TransientError

logger = logging.getLogger(__name__)


async def project_to_graph(
    ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession
) -> None:
    """Idempotent: the graph service ignores an event it has already applied."""
    if envelope.type not in GRAPH_EVENT_TYPES:
        return
    client: httpx.AsyncClient = ctx["graph_client"]
    headers = {"x-request-id": envelope.request_id} if envelope.request_id else {}
    try:
        response = await client.post(
            "/internal/v1/events", json=envelope.model_dump(mode="json"), headers=headers
        )
    except httpx.HTTPError as exc:
        raise TransientError(f"graph service unreachable: {exc}") from exc
    if response.status_code >= 500:
        raise TransientError(f"graph service answered {response.status_code}")
    if response.status_code >= 400:
        # A 4xx means the event itself is wrong; retrying cannot fix it.
        logger.error(
            "graph service rejected event",
            extra={"status": response.status_code, "body": response.text[:500]},
        )
