"""The emails of one invitation, sent by the worker through the real SMTP catcher: one
conversation (In-Reply-To/References), written by a machine (Auto-Submitted), each with
its one-click unsubscribe, from Rapport's address with no member's address to reply to,
with a button to the web app and no rating of the other member."""

import re
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import httpx

from rapport_common.settings import Settings
from tests.factories import invitation_id, sign_in_all
from tests.notifier.conftest import Mailbox, body_text


async def test_the_emails_of_one_invitation_are_one_thread_from_rapport_with_working_links(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    settings: Settings,
    run_worker: Callable[[], Awaitable[None]],
) -> None:
    ada, bob = await sign_in_all(committed_client, "Ada Lovelace", "Bob Builder")
    await committed_client.patch(
        "/v1/me", json={"headline": "Head of <b>Data</b>"}, headers=bob.headers
    )
    sent = await invitation_id(committed_client, ada, bob, my_rating=9, how_we_met="never_met")
    asked = await committed_client.post(
        f"/v1/invitations/{sent}/ask", json={"question": "Where did we meet?"}, headers=bob.headers
    )
    assert asked.status_code == 200, asked.text
    answered = await committed_client.post(
        f"/v1/invitations/{sent}/answer", json={"answer": "Nowhere yet."}, headers=ada.headers
    )
    assert answered.status_code == 200, answered.text
    note = "<b>Let's</b> have lunch first, Ada & then connect."
    declined = await committed_client.post(
        f"/v1/invitations/{sent}/decline", json={"note": note}, headers=bob.headers
    )
    assert declined.status_code == 200, declined.text
    await run_worker()

    to_ada = mailbox.messages_to(ada.email)
    to_bob = mailbox.messages_to(bob.email)
    about = [
        m
        for m in to_ada + to_bob
        if "question" in str(m["Subject"])
        or "note" in str(m["Subject"])
        or "connect" in str(m["Subject"])
    ]
    assert len(about) >= 4  # received, question asked, answered, the note
    root = f"<invitation.{sent}@rapport.example>"
    for email in about:
        assert email["References"] == root and email["In-Reply-To"] == root
        assert email["Auto-Submitted"] == "auto-generated"
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert email["Reply-To"] is None and email["From"] == settings.smtp.sender
        headers = " ".join(f"{k}: {v}" for k, v in email.items() if k != "To")
        assert ada.email not in headers and bob.email not in headers
        assert len({m["Message-ID"] for m in about}) == len(about)
        everything = body_text(email) + str(_html(email))
        assert "/docs" not in everything
        assert "rating" not in everything.lower() and "rated" not in everything.lower()

    [note_email] = [m for m in to_ada if "note from" in str(m["Subject"])]
    html = _html(note_email)
    assert "&lt;b&gt;Let" in html and "Head of &lt;b&gt;Data&lt;/b&gt;" in html
    assert f"> {note}" in body_text(note_email)
    [received] = [m for m in to_bob if "wants to connect" in str(m["Subject"])]
    button = f"{settings.web.app_url.rstrip('/')}/invitations/{sent}"
    assert button in body_text(received) and f'href="{button}"' in _html(received)


async def test_the_unsubscribe_link_is_written_as_a_plain_url_on_one_line(
    committed_client: httpx.AsyncClient,
    mailbox: Mailbox,
    run_worker: Callable[[], Awaitable[None]],
) -> None:
    """RFC 2369/8058 want ``List-Unsubscribe: <URL>`` as it is: mail clients do not
    decode encoded words there, and the signed link is longer than a folded line."""
    ada, bob = await sign_in_all(committed_client, "Ada Lovelace", "Bob Builder")
    await invitation_id(committed_client, ada, bob)
    await run_worker()

    [(email, raw)] = [
        found for found in mailbox.raw_to(bob.email) if "connect" in str(found[0]["Subject"])
    ]
    line = re.search(rb"^List-Unsubscribe: (.*?)\r?\n(?![ \t])", raw, re.MULTILINE | re.DOTALL)
    assert line is not None, raw[:600]
    written = line.group(1).decode("ascii")
    assert len(written) > 78 - len("List-Unsubscribe: ")  # long enough to have been folded
    assert written == str(email["List-Unsubscribe"])
    assert re.fullmatch(r"<https?://[!-~]+>", written), written


def _html(email: EmailMessage) -> str:
    part = email.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
