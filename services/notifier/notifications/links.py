"""Where the button of each kind of email leads, and which conversation it belongs to.

A button opens the web app (``web.app_url``) at the thing the message is about: the
invitation, the question (on the invitation's page), the introduction, the connection.
The link names ids only and carries no credential: the page asks the member to sign in
if they are not. The only links that act without signing in are the single-use signed
tokens of the account emails, the export download and the unsubscribe links, made
where those emails are made.

The thread of a message is the invitation or introduction it is about: every email of
one carries the same ``References``, so a mail client shows them as one conversation.
"""

from collections.abc import Mapping
from typing import Any

from rapport_common.settings import Settings

# The web app's page for each kind, filled from the notification's ``data``.
ACTION_PATHS = {
    "invitation_received": "/invitations/{invitation_id}",
    "invitation_accepted": "/connections/{member_id}",
    "question_asked": "/invitations/{invitation_id}",
    "question_answered": "/invitations/{invitation_id}",
    "invitation_back": "/invitations/{invitation_id}",
    "referral_requested": "/invitations/{invitation_id}/referral",
    "referral_outcome": "/invitations/{invitation_id}",
    "referral_false_claim": "/invitations/{invitation_id}",
    "introduction_requested": "/introductions/{introduction_id}",
    "introduction_forwarded": "/introductions/{introduction_id}",
    "introduction_declined": "/introductions/{introduction_id}",
    "introduction_accepted": "/introductions/{introduction_id}",
    "recommendation_requested": "/recommendations/{recommendation_id}",
    "recommendation_approved": "/recommendations/{recommendation_id}",
    "nudge": "/connections/{member_id}",
    "webhook_endpoint_disabled": "/settings/webhooks/{endpoint_id}",
    "digest": "/notifications",
}
# What a thread is named by, in the order looked for.
THREAD_KEYS = ("invitation_id", "introduction_id")
THREAD_DOMAIN = "rapport.example"


def action_url(settings: Settings, kind: str, data: Mapping[str, Any]) -> str | None:
    """The web app page ``kind``'s button opens, or ``None`` if it has none or the
    data lacks an id it needs (a notification written before the id was kept)."""
    path = ACTION_PATHS.get(kind)
    if path is None:
        return None
    try:
        filled = path.format_map({key: str(value) for key, value in data.items()})
    except KeyError:
        return None
    return f"{settings.web.app_url.rstrip('/')}{filled}"


def thread_root(data: Mapping[str, Any]) -> str | None:
    """The Message-ID every email about the same invitation or introduction refers to
    (``<invitation.ID@rapport.example>``); no email has it, mail clients thread on it."""
    for key in THREAD_KEYS:
        value = data.get(key)
        if value:
            return f"<{key.removesuffix('_id')}.{value}@{THREAD_DOMAIN}>"
    return None
