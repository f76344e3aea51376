"""Request ids: taken from ``X-Request-ID`` or made here, logged, echoed and passed on;
and each request counted and timed for ``/metrics``."""

import logging
import re
import time
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rapport_common.logging import request_id_var
from rapport_common.metrics import observe_request
from rapport_common.web.problems import unexpected_error_response

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
logger = logging.getLogger("rapport.http")


class RequestIdMiddleware:
    """Pure ASGI middleware, so streaming responses and lifespan events pass untouched.

    It also answers unexpected errors: Starlette's own last-resort handler sits outside
    every middleware, where its 500 would carry no request id and its log line neither.
    """

    def __init__(self, app: ASGIApp, service: str = "unnamed") -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        # A client-chosen id is kept only if it is safe to log and to forward.
        request_id = incoming if _ACCEPTABLE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message.setdefault("headers", [])
                message["headers"].append((REQUEST_ID_HEADER.encode(), request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if responded:
                # Too late for a problem: the server closes the connection.
                logger.exception("unhandled error after the response started")
                raise
            await unexpected_error_response(Request(scope))(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            observe_request(self.service, scope, status, elapsed)
            logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


def outgoing_request_id_headers() -> dict[str, str]:
    """Headers that carry the current request id to another service."""
    request_id = request_id_var.get()
    return {REQUEST_ID_HEADER: request_id} if request_id else {}
