"""A small HTTP/1.1 client on raw asyncio streams: one keep-alive connection per caller.

The load generator shares the machine with what it measures, so it should cost as little
CPU as possible; httpx spends several times more per request than this. It speaks just
what uvicorn answers: ``Content-Length`` or chunked bodies, keep-alive.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpError(Exception):
    """The connection failed or the answer was not HTTP; the connection is reopened."""


class StaleConnection(Exception):
    """Closed by the server before any byte of the answer."""


class Connection:
    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> Response:
        """JSON ``body``, or ``form`` fields (urlencoded); ``headers`` added as given."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        payload = b""
        if form is not None:
            payload = urlencode(form).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
        elif body is not None:
            payload = json.dumps(body).encode()
            lines.append("Content-Type: application/json")
        if method != "GET":
            lines.append(f"Content-Length: {len(payload)}")
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
        for attempt in (1, 2):
            reused = self.writer is not None
            try:
                return await asyncio.wait_for(self._exchange(raw), self.timeout)
            except StaleConnection:
                # The server closed an idle keep-alive connection before it read this
                # request (uvicorn's keep-alive timeout): send it again on a new one.
                await self.close()
                if not reused or attempt == 2:
                    raise HttpError(f"{method} {path}: connection closed") from None
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
                await self.close()
                raise HttpError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    async def _exchange(self, raw: bytes) -> Response:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        reader = self.reader
        try:
            status_line = await reader.readline()
        except ConnectionResetError as exc:
            raise StaleConnection from exc
        if not status_line:
            raise StaleConnection
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = None, False, False
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value
            elif name == "connection":
                close = value == "close"
        if chunked:
            body = await self._chunks(reader)
        else:
            body = await reader.readexactly(length or 0)
        if close:
            await self.close()
        return Response(status, body)

    @staticmethod
    async def _chunks(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readline()
        await reader.readline()
        return b"".join(parts)

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
