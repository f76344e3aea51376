"""RFC 9457 problem details: domain exceptions carry their status, one handler renders them."""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://rapport.example/problems/"


class ValidationIssue(BaseModel):
    """One field a 422 `validation-error` refuses."""

    location: list[str] = Field(
        description="Where: `body`, `query`, `path` or `header`, then the field's path"
    )
    message: str = Field(description="What is wrong with it, for a person to read")
    kind: str = Field(description="A stable code, e.g. `missing`, `int_type`, `json_invalid`")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Stable URI per kind of error, e.g. .../problems/not-found")
    title: str
    status: int
    detail: str = Field(description="What went wrong, for a person to read")
    instance: str = Field(description="The request path")
    errors: list[ValidationIssue] | None = Field(
        default=None, description="On a 422 `validation-error` only: each field refused"
    )


def problem_responses(*statuses: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries declaring that these statuses answer with problem details;
    give ``(status, description)`` to say when it happens."""
    entries: dict[int | str, dict[str, Any]] = {}
    for entry in statuses:
        status, description = entry if isinstance(entry, tuple) else (entry, None)
        entries[status] = {
            "model": ProblemDetails,
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": description or HTTPStatus(status).phrase,
        }
    return entries


class Problem(Exception):
    """Base of every error a client may see; subclasses set ``status``, ``slug`` and ``title``."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Not signed in"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extensions)


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", "A dependency is unavailable"


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    request: Request,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def _handle_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status, exc.slug, exc.title, exc.detail, request, exc.headers, **exc.extensions
    )


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "location": [str(part) for part in error.get("loc", ())],
            "message": error.get("msg", "invalid"),
            "kind": error.get("type", "value_error"),
        }
        for error in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors[:5])
    return problem_response(
        422,
        "validation-error",
        "The request is not valid",
        f"Some fields are missing or invalid: {summary}",
        request,
        errors=errors,
    )


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    slug = phrase.lower().replace(" ", "-").replace("'", "")
    detail = (
        exc.detail
        if isinstance(exc.detail, str) and exc.detail != phrase
        else {
            404: f"There is nothing at {request.url.path}.",
            405: f"{request.method} is not allowed on {request.url.path}.",
        }.get(exc.status_code, phrase)
    )
    headers = exc.headers
    if exc.status_code == 405:
        # Starlette names the methods of the one route it tried; a path has a route per
        # method, and the client needs them all.
        headers = {**(headers or {}), "Allow": ", ".join(_methods_of_path(request))}
    return problem_response(exc.status_code, slug, phrase, detail, request, headers)


def _methods_of_path(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        if route.path and route.methods and compile_path(route.path)[0].match(request.url.path):
            methods |= set(route.methods)
    return sorted(methods)


def unexpected_error_response(request: Request) -> JSONResponse:
    """Log the exception being handled and answer a 500 problem that does not show it.

    Called while the exception is handled, inside the request id's context, so the log
    line carries the traceback and the id the client gets in ``X-Request-ID``."""
    logger.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        500,
        "internal-error",
        "Internal error",
        "Something went wrong on our side; the request id in the response headers helps us "
        "find it.",
        request,
    )


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Only reached by an app without RequestIdMiddleware, which answers these itself.
    return unexpected_error_response(request)


def _document_problems_as_problem_json(app: FastAPI) -> None:
    """FastAPI documents a response model as application/json; our errors are sent as
    application/problem+json, so the spec is corrected to say so."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI) -> None:
    _document_problems_as_problem_json(app)
    app.add_exception_handler(Problem, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(Exception, _handle_unexpected)
