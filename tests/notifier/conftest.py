import email
import email.policy
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.settings import Settings
from services.notifier.queue import JobQueue
from services.notifier.relay import relay_pending
from services.notifier.worker import build_worker
from tests.conftest import SteppingClock


class Mailbox:
    """The test stack's SMTP catcher, read from its folder (messages are real .eml files)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages_to(self, address: str) -> list[EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if address.lower() in str(message["To"]).lower():
                found.append(message)
        return found


@pytest.fixture
def mailbox(settings: Settings) -> Mailbox:
    return Mailbox(Path(settings.mailbox.folder))


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
def worker_ctx(
    settings: Settings, committed_db: async_sessionmaker[AsyncSession]
) -> dict[str, Any]:
    """What cron jobs get from the worker, with a clock the test moves."""
    return {"settings": settings, "sessionmaker": committed_db, "clock": SteppingClock()}


@pytest.fixture
async def run_worker(
    settings: Settings,
    committed_db: async_sessionmaker[AsyncSession],
    queue: JobQueue,
    graph_client: httpx.AsyncClient,
) -> AsyncIterator[Any]:
    """Relay the outbox, then run the real worker in burst mode until the queue is empty."""

    async def run() -> None:
        await relay_pending(committed_db, queue, batch_size=500)
        worker = build_worker(
            settings,
            ctx={
                "sessionmaker": committed_db,
                "graph_client": graph_client,
                "run_relay": False,
                "serve_health": False,
            },
            burst=True,
            handle_signals=False,
            poll_delay=0.05,
        )
        await worker.main()
        await worker.close()

    yield run
