"""`/livez`: the process runs. `/readyz`: each dependency answers, or is named as down.
`/metrics`: the service's Prometheus metrics (rapport_common/metrics.py)."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from rapport_common.metrics import exposition
from rapport_common.web.problems import problem_response, problem_responses

Check = Callable[[], Awaitable[None]]


class DependencyReport(BaseModel):
    """One dependency in `/readyz`'s answer, keyed by its name."""

    address: str
    status: Literal["up", "down"]
    error: str | None = Field(default=None, description="Why it is down; only when it is")


class Readiness(BaseModel):
    """`/readyz`'s answer when every dependency is up."""

    status: Literal["ready"]
    checks: dict[str, DependencyReport] = Field(description="Each dependency, by name")


CHECK_TIMEOUT_SECONDS = 2.0


async def _run_check(check: Check) -> str | None:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return "did not answer within 2 s"
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def health_router(
    checks: Callable[[Request], Mapping[str, tuple[str, Check]]],
    before_scrape: Callable[[], Awaitable[None]] | None = None,
) -> APIRouter:
    """``checks(request)`` maps a dependency name to (its address, an async probe);
    ``before_scrape`` updates the gauges read from a store just before ``/metrics``."""
    router = APIRouter(tags=["health"])

    @router.get(
        "/metrics",
        summary="Prometheus metrics, in the text exposition format",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        if before_scrape is not None:
            await before_scrape()
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    @router.get("/livez", summary="The process is running")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Every dependency answers",
        response_model=Readiness,
        responses=problem_responses((503, "A dependency is down; the body names it")),
    )
    async def readyz(request: Request) -> JSONResponse:
        named = checks(request)
        results = await asyncio.gather(*(_run_check(probe) for _, probe in named.values()))
        report = {
            name: {
                "address": address,
                "status": "up" if error is None else "down",
                **({"error": error} if error else {}),
            }
            for (name, (address, _)), error in zip(named.items(), results, strict=True)
        }
        down = [name for name, entry in report.items() if entry["status"] == "down"]
        if down:
            detail = "; ".join(
                f"{name} at {report[name]['address']} is down ({report[name]['error']})"
                for name in down
            )
            return problem_response(
                503, "dependency-down", "Not ready", detail, request, checks=report
            )
        return JSONResponse({"status": "ready", "checks": report})

    return router
