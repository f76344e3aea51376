"""The development mail catcher's page shows a message as its recipient would: the HTML
in a sandboxed frame, the links clickable, and the one-click unsubscribe button a mail
client shows, so the links in the demo's emails work from the page."""

import asyncio
import html
import importlib.util
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from rapport_common.settings import Settings
from tests.factories import invitation_id, sign_in_all

CATCHER = Path(__file__).parents[2] / "deploy" / "local" / "mailcatcher.py"


@pytest.fixture
async def catcher_page(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The catcher's page over the test stack's mail folder, on a free port."""
    spec = importlib.util.spec_from_file_location("mailcatcher", CATCHER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), module.make_viewer(Path(settings.mailbox.folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    async with httpx.AsyncClient(base_url=address, timeout=10) as client:
        yield client
    await asyncio.to_thread(server.shutdown)
    server.server_close()


async def test_a_message_page_shows_the_html_sandboxed_and_the_links_working(
    committed_client: httpx.AsyncClient,
    catcher_page: httpx.AsyncClient,
    run_worker: Callable[[], Awaitable[None]],
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada", "Bob")
    await invitation_id(committed_client, ada, bob)
    await run_worker()
    index = (await catcher_page.get("/")).text
    found = re.search(
        r"<td>" + re.escape(bob.email) + r"</td><td><a href='(/message/[^']+)'", index
    )
    assert found is not None
    page = (await catcher_page.get(found.group(1))).text
    frame = re.search(r"<iframe sandbox='([^']*)' src='([^']+)'", page)
    assert frame is not None and "allow-scripts" not in frame.group(1)
    unsubscribe = re.search(r'<form method="post" action="([^"]+)"', page)
    assert unsubscribe is not None and "/v1/email-preferences/" in unsubscribe.group(1)
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert f'<a href="{unsubscribe.group(1)}"' in page  # the footer's link, clickable
    shown = await catcher_page.get(frame.group(2))
    assert "script-src" not in shown.headers["content-security-policy"]
    assert '<base target="_blank">' in shown.text
    assert "Ada wants to connect" in html.unescape(shown.text)


async def test_only_messages_of_the_folder_are_served(catcher_page: httpx.AsyncClient) -> None:
    for path in ("/message/..%2F..%2Fetc%2Fpasswd", "/message/x.eml", "/message/x.eml/raw"):
        assert (await catcher_page.get(path)).status_code == 404
