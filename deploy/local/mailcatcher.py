"""The development SMTP catcher: accepts every message and keeps it for people to read.

Messages land as .eml files in RAPPORT_MAILBOX__FOLDER, and a small page on
127.0.0.1:RAPPORT_MAILBOX__PORT lists them newest first. Never use it in production:
it relays nothing and asks for no authentication.
"""

import asyncio
import email
import email.policy
import html
import signal
import threading
import time
import uuid
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from rapport_common.settings import get_settings


class SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        temporary = self.folder / f".{name}.tmp"
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        temporary.write_bytes(data)
        temporary.rename(self.folder / name)  # readers never see half a message
        return "250 Message accepted for delivery"


def _read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def make_viewer(folder: Path) -> type[BaseHTTPRequestHandler]:
    class Viewer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/message/"):
                path = folder / Path(self.path.removeprefix("/message/")).name
                if not path.is_file():
                    self._send(404, "text/plain", b"no such message")
                    return
                message = _read(path)
                body = message.get_body(preferencelist=("plain", "html"))
                text = body.get_content() if body is not None else ""
                subject, sender, to = (
                    html.escape(str(message[h])) for h in ("subject", "from", "to")
                )
                page = (
                    f"<p><a href='/'>all mail</a></p><h2>{subject}</h2>"
                    f"<p>From {sender} to {to}</p><pre>{html.escape(text)}</pre>"
                )
                self._send(200, "text/html; charset=utf-8", page.encode())
                return
            rows = []
            for path in sorted(folder.glob("*.eml"), reverse=True)[:500]:
                message = _read(path)
                date, to, subject = (
                    html.escape(str(message[h])) for h in ("date", "to", "subject")
                )
                link = f"<a href='/message/{path.name}'>{subject}</a>"
                rows.append(f"<tr><td>{date}</td><td>{to}</td><td>{link}</td></tr>")
            header = "<tr><th>date</th><th>to</th><th>subject</th></tr>"
            page = f"<h1>Rapport caught mail</h1><table>{header}{''.join(rows)}</table>"
            self._send(200, "text/html; charset=utf-8", page.encode())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Viewer


async def main() -> None:
    settings = get_settings()
    folder = Path(settings.mailbox.folder)
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before serving)
    bind, smtp_port, viewer_port = settings.mailbox.bind, settings.smtp.port, settings.mailbox.port

    viewer = ThreadingHTTPServer((bind, viewer_port), make_viewer(folder))
    threading.Thread(target=viewer.serve_forever, daemon=True).start()

    loop = asyncio.get_running_loop()
    handler = SaveToFolder(folder)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="rapport-mailcatcher"), bind, smtp_port
    )
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"mailcatcher ready smtp={bind}:{smtp_port} web={bind}:{viewer_port}", flush=True)
    await stop.wait()
    server.close()
    viewer.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
