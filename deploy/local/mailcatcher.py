"""The development SMTP catcher: accepts every message and keeps it for people to read.

Messages land as .eml files in RAPPORT_MAILBOX__FOLDER, and a small page on
127.0.0.1:RAPPORT_MAILBOX__PORT lists them newest first; each message's page shows its
headers, its HTML as the recipient sees it (in a sandboxed frame), its text with the
links clickable, and the one-click unsubscribe button a mail client would show. Never
use it in production:
it relays nothing and asks for no authentication.
"""

import asyncio
import email
import email.policy
import html
import re
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


_URL = re.compile(r"https?://[^\s<>\"']+")
# The headers worth seeing on the page: who, when, and what a mail client acts on.
SHOWN_HEADERS = (
    "From",
    "To",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
# The HTML part is shown in a sandboxed frame: no script runs, no form is sent, links
# open in a new tab (outside the sandbox) as they would from a mail client.
FRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox"
PART_POLICY = "default-src 'none'; img-src data: http: https:; style-src 'unsafe-inline'"
PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}"
    "table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left}"
    "pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}"
    "iframe{width:100%;height:32rem;border:1px solid #ccc}"
)


def _linked(text: str) -> str:
    """``text`` escaped, with each web address a link that opens in a new tab."""
    parts, last = [], 0
    for found in _URL.finditer(text):
        parts.append(html.escape(text[last : found.start()]))
        url = html.escape(found.group(0))
        parts.append(f'<a href="{url}" target="_blank" rel="noreferrer">{url}</a>')
        last = found.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def _part(message: EmailMessage, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    return None if body is None else str(body.get_content())


def _one_click(message: EmailMessage) -> str:
    """What a mail client's "Unsubscribe" button does (RFC 8058), as a button here."""
    header = str(message["List-Unsubscribe"] or "")
    post = str(message["List-Unsubscribe-Post"] or "")
    found = _URL.search(header)
    if found is None or post != "List-Unsubscribe=One-Click":
        return ""
    url = html.escape(found.group(0))
    return (
        f'<form method="post" action="{url}" target="_blank">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        "<button>Unsubscribe with one click, as a mail client would</button></form>"
    )


def message_page(name: str, message: EmailMessage) -> str:
    rows = "".join(
        f"<tr><th>{header}</th><td>{_linked(str(message[header]))}</td></tr>"
        for header in SHOWN_HEADERS
        if message[header] is not None
    )
    subject = html.escape(str(message["Subject"]))
    page = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{subject}</title>"
        f"<style>{PAGE_STYLE}</style></head><body><p><a href='/'>all mail</a> · "
        f"<a href='/message/{name}/raw'>raw message</a></p><h2>{subject}</h2>"
        f"<table>{rows}</table>{_one_click(message)}"
    ]
    if _part(message, "html") is not None:
        page.append(
            "<h3>As the recipient sees it</h3>"
            f"<iframe sandbox='{FRAME_SANDBOX}' src='/message/{name}/html' "
            "title='The HTML part of the message'></iframe>"
        )
    text = _part(message, "plain")
    if text is not None:
        page.append(f"<h3>Plain text</h3><pre>{_linked(text)}</pre>")
    page.append("</body></html>")
    return "".join(page)


def _with_base(document: str) -> str:
    # Links in the frame open a new tab, like links in a mail client.
    base = '<base target="_blank">'
    head = document.lower().find("<head>")
    if head < 0:
        return base + document
    return document[: head + 6] + base + document[head + 6 :]


def make_viewer(folder: Path) -> type[BaseHTTPRequestHandler]:
    class Viewer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/message/"):
                self._message(self.path.removeprefix("/message/"))
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
            page = (
                f"<!doctype html><html><head><meta charset='utf-8'><title>Caught mail</title>"
                f"<style>{PAGE_STYLE}</style></head><body><h1>Rapport caught mail</h1>"
                f"<table>{header}{''.join(rows)}</table></body></html>"
            )
            self._send(200, "text/html; charset=utf-8", page.encode())

        def _message(self, rest: str) -> None:
            name, _, view = rest.partition("/")
            path = folder / Path(name).name
            if not name.endswith(".eml") or not path.is_file():
                self._send(404, "text/plain", b"no such message")
                return
            message = _read(path)
            if view == "raw":
                self._send(200, "text/plain; charset=utf-8", path.read_bytes())
            elif view == "html":
                part = _part(message, "html")
                if part is None:
                    self._send(404, "text/plain", b"no HTML part")
                    return
                policy = {"Content-Security-Policy": PART_POLICY}
                self._send(200, "text/html; charset=utf-8", _with_base(part).encode(), policy)
            elif view == "":
                page = message_page(path.name, message)
                self._send(200, "text/html; charset=utf-8", page.encode())
            else:
                self._send(404, "text/plain", b"no such view")

        def _send(
            self,
            status: int,
            content_type: str,
            body: bytes,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
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
