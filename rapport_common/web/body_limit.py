"""Request bodies over a size are refused with a 413 problem before anything parses them."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rapport_common.web.problems import PROBLEM_MEDIA_TYPE, problem_response

_MIB = 1024 * 1024


def describe_limit(max_bytes: int) -> str:
    whole_mib = max_bytes >= _MIB and max_bytes % _MIB == 0
    return f"{max_bytes // _MIB} MiB" if whole_mib else f"{max_bytes} bytes"


class BodyTooLarge(StarletteHTTPException):
    """Raised while a body is read; an HTTPException, so FastAPI, which turns any other
    error met while reading a body into a 400, passes it on as it is."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413)
        self.max_bytes = max_bytes


def body_too_large_response(request: Request, max_bytes: int) -> JSONResponse:
    return problem_response(
        413,
        "body-too-large",
        "Request body too large",
        f"The request body is larger than {describe_limit(max_bytes)}; nothing was saved.",
        request,
        max_bytes=max_bytes,
    )


class BodyLimitMiddleware:
    """Refuses by the declared ``Content-Length`` before the app runs, and counts the
    bytes of a body sent without one (chunked) as the app reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await body_too_large_response(Request(scope), self.max_bytes)(scope, receive, send)
            return
        received = 0
        responded = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def noting_send(message: Message) -> None:
            nonlocal responded
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, noting_send)
        except BodyTooLarge:
            # Read outside FastAPI's routing, so no exception handler answered it.
            if responded:
                raise
            await body_too_large_response(Request(scope), self.max_bytes)(scope, receive, send)


async def _handle_body_too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return body_too_large_response(request, exc.max_bytes)


def _document_413(app: FastAPI, max_bytes: int) -> None:
    """Every operation that takes a body says, in the OpenAPI document, that it may be
    refused for its size."""
    build = app.openapi
    refused: dict[str, Any] = {
        "description": f"The request body is larger than {describe_limit(max_bytes)}",
        "content": {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
        },
    }

    def openapi() -> dict[str, Any]:
        schema = build()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                if "requestBody" in operation:
                    operation.setdefault("responses", {}).setdefault("413", refused)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_body_limit(app: FastAPI, max_bytes: int) -> None:
    """Refuse request bodies over ``max_bytes`` with a 413 problem.

    Install it before the middleware meant to wrap it (CORS, request ids), which
    ``add_middleware`` puts outside whatever was added earlier."""
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_bytes)
    app.add_exception_handler(BodyTooLarge, _handle_body_too_large)
    _document_413(app, max_bytes)
