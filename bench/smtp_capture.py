"""A capturing SMTP server for measurement 3: accepts every message and appends one line
per message to a file, ``<X-Rapport-Notification> <accepted at, epoch seconds>``, the
moment it answers 250. It keeps nothing else, so it stays cheap at hundreds of messages
a second.

    python -m bench.smtp_capture --port 39025 --out captured.txt
"""

import argparse
import asyncio
import re
import signal
import time
from pathlib import Path
from typing import IO

from aiosmtpd.smtp import SMTP, Envelope, Session

HEADER = re.compile(rb"^X-Rapport-Notification:\s*([0-9a-fA-F-]{36})", re.MULTILINE)


class Capture:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        found = HEADER.search(data)
        notification = found.group(1).decode() if found else "-"
        self.out.write(f"{notification} {time.time():.6f}\n")
        return "250 Message accepted for delivery"


async def serve(port: int, out_path: Path) -> None:
    loop = asyncio.get_running_loop()
    with out_path.open("a", buffering=1, encoding="utf-8") as out:
        handler = Capture(out)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="rapport-bench-capture"), "127.0.0.1", port
        )
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        print(f"capturing SMTP on 127.0.0.1:{port} into {out_path}", flush=True)
        await stop.wait()
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="A capturing SMTP server for the bench.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.out))


if __name__ == "__main__":
    main()
