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
from services.notifier.notifications.mailer import Mailer
from tests.conftest import SteppingClock
from tests.webhooks.receiver import Receiver


class Mailbox:
    """The test stack's SMTP catcher, read from its folder (messages are real .eml files)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [message for message, _ in self.raw_to(address)]

    def raw_to(self, address: str) -> list[tuple[EmailMessage, bytes]]:
        """Each message to ``address``, parsed, with the bytes the server received (the
        parser decodes what a mail client might not, such as encoded words)."""
        found = []
        for path in sorted(self.folder.glob("*.eml")):
            raw = path.read_bytes()
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if address.lower() in str(message["To"]).lower():
                found.append((message, raw))
        return found


@pytest.fixture
def mailbox(settings: Settings) -> Mailbox:
    return Mailbox(Path(settings.mailbox.folder))


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
async def worker_ctx(
    settings: Settings, committed_db: async_sessionmaker[AsyncSession]
) -> AsyncIterator[dict[str, Any]]:
    """What cron jobs get from the worker, with a clock the test moves."""
    mailer = Mailer(settings.smtp)
    yield {
        "settings": settings,
        "sessionmaker": committed_db,
        "mailer": mailer,
        "clock": SteppingClock(),
    }
    await mailer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A partner's webhook receiver on loopback."""
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def graph_down() -> AsyncIterator[httpx.AsyncClient]:
    """A way to a graph service that is not there: every call fails to connect."""
    async with httpx.AsyncClient(base_url="http://127.0.0.1:1", timeout=2) as client:
        yield client
