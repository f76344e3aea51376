"""The API's client for the graph service's internal endpoints."""

import logging
import uuid
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request

from rapport_common.settings import Settings
from rapport_common.web.middleware import outgoing_request_id_headers
from rapport_common.web.problems import NotFound, ServiceUnavailable

logger = logging.getLogger(__name__)


class GraphClient:
    def __init__(self, http: httpx.AsyncClient, auth_headers: dict[str, str]) -> None:
        self.http = http
        self.auth_headers = auth_headers

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        """GET an internal endpoint; 404 passes through, anything else failing is a 503."""
        query = {
            k: (v.isoformat() if isinstance(v, datetime) else str(v))
            for k, v in params.items()
            if v is not None
        }
        try:
            response = await self.http.get(
                path, params=query, headers={**self.auth_headers, **outgoing_request_id_headers()}
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                "The connection graph is unavailable right now; try again in a moment.",
                headers={"Retry-After": "5"},
            ) from exc
        if response.status_code == 404:
            raise NotFound(response.json().get("detail", "Not found."))
        if response.status_code >= 400:
            logger.error(
                "graph service error",
                extra={"status": response.status_code, "body": response.text[:500]},
            )
            raise ServiceUnavailable(
                "The connection graph could not answer; try again in a moment.",
                headers={"Retry-After": "5"},
            )
        body: dict[str, Any] = response.json()
        return body

    async def mutual_strengths(
        self, member_id: uuid.UUID, other_id: uuid.UUID, at: datetime
    ) -> list[float] | None:
        """My own effective rating (/ 10) of each of our mutual connections who consent to
        be one; None if the graph is down. My side only: a strength from the weaker side
        would let a policy's threshold bisect the mutual's rating of me."""
        try:
            body = await self.get(
                "/internal/v1/mutuals", member_id=member_id, other_id=other_id, at=at
            )
        except (ServiceUnavailable, NotFound):
            return None
        return [float(m["my_strength"]) for m in body["mutuals"]]

    async def paths(
        self, source: uuid.UUID, target: uuid.UUID, limit: int, at: datetime
    ) -> dict[str, Any]:
        return await self.get(
            "/internal/v1/paths", source=source, target=target, limit=limit, at=at
        )

    async def mutuals(
        self, member_id: uuid.UUID, other_id: uuid.UUID, at: datetime
    ) -> list[dict[str, Any]]:
        body = await self.get("/internal/v1/mutuals", member_id=member_id, other_id=other_id, at=at)
        mutuals: list[dict[str, Any]] = body["mutuals"]
        return mutuals

    async def degree(self, source: uuid.UUID, target: uuid.UUID) -> int | None:
        body = await self.get("/internal/v1/degree", source=source, target=target)
        degree: int | None = body["degree"]
        return degree

    async def health(self, member_id: uuid.UUID, at: datetime) -> dict[str, Any]:
        return await self.get(f"/internal/v1/members/{member_id}/health", at=at)


async def get_graph(request: Request) -> GraphClient:
    settings: Settings = request.app.state.settings
    return GraphClient(request.app.state.graph_client, settings.graph.auth_headers())


GraphDep = Annotated[GraphClient, Depends(get_graph)]
