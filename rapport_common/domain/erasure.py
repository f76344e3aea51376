"""What a deleted member leaves in other members' records, and how it is anonymised
(docs/privacy.md, "Deleting an account"): their name becomes "a former member", their
address goes, and ids that point to them are dropped. Applied by the API in the
deletion's transaction and again by the notifier's finisher to anything written late."""

import html
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from rapport_common.models.notifications import Notification
from rapport_common.repositories.erasure import ErasureRepository

FORMER_MEMBER = "a former member"
REMOVED_ADDRESS = "(address removed)"
# What stands where their headline was (a decline note shows who wrote it).
REMOVED_DETAILS = "(details removed)"
# A shorter headline could match ordinary words of a message.
MIN_DETAIL_LENGTH = 4
# Shorter forms would replace parts of ordinary words' neighbours too often to be safe.
MIN_NAME_LENGTH = 2
# Before these (ignoring spaces) a replacement starts a sentence, or an HTML paragraph.
_SENTENCE_START = (".", "!", "?", "\n", ">", ":")


def name_forms(name: str, given_name: str | None) -> list[str]:
    """The forms of a member's name that messages use: the full name, the given name,
    the first word of the name (how messages addressed them before given names)."""
    words = name.split()
    forms = [name.strip(), (given_name or "").strip(), words[0] if words else ""]
    unique = {form for form in forms if len(form) >= MIN_NAME_LENGTH}
    return sorted(unique, key=len, reverse=True)  # the full name before its parts


def _replacement(match: re.Match[str]) -> str:
    before = match.string[: match.start()].rstrip(" \t")
    if not before or before.endswith(_SENTENCE_START):
        return FORMER_MEMBER[0].upper() + FORMER_MEMBER[1:]
    return FORMER_MEMBER


def anonymise(
    text: str, names: Sequence[str], email: str | None = None, details: Sequence[str] = ()
) -> str:
    """``text`` with each whole-word occurrence of the names (and their HTML-escaped
    forms) replaced by "a former member" ("A former member" where a sentence starts),
    the address by a mark that it was removed, and the profile details (a headline)
    by another."""
    if email:
        for form in {email, html.escape(email)}:
            text = re.sub(re.escape(form), REMOVED_ADDRESS, text, flags=re.IGNORECASE)
    for detail in details:
        if len(detail.strip()) >= MIN_DETAIL_LENGTH:
            for form in dict.fromkeys((detail.strip(), html.escape(detail.strip()))):
                text = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", REMOVED_DETAILS, text)
    for name in names:
        for form in dict.fromkeys((name, html.escape(name))):
            text = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", _replacement, text)
    return text


def _anonymised_data(
    data: dict[str, Any],
    member_id: uuid.UUID,
    names: Sequence[str],
    email: str | None,
    details: Sequence[str],
) -> dict[str, Any]:
    """Keys whose value is the member's id are dropped; text is anonymised."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if value == str(member_id):
            continue
        kept[key] = anonymise(value, names, email, details) if isinstance(value, str) else value
    return kept


async def anonymise_notifications(
    repository: ErasureRepository,
    notifications: Iterable[Notification],
    member_id: uuid.UUID,
    names: Sequence[str],
    email: str | None = None,
    details: Sequence[str] = (),
) -> int:
    """Rewrite other members' notifications about the member: they stay in their feeds,
    naming "a former member". Idempotent: a rewritten one no longer changes. Returns how
    many changed."""
    changed = 0
    member = str(member_id)
    for notification in notifications:
        values: dict[str, Any] = {
            "subject": anonymise(notification.subject, names, email, details)[:200],
            "body_text": anonymise(notification.body_text, names, email, details),
            "body_html": anonymise(notification.body_html, names, email, details),
            "data": _anonymised_data(notification.data or {}, member_id, names, email, details),
            "related_member_id": (
                None
                if notification.related_member_id == member_id
                else notification.related_member_id
            ),
        }
        if member in notification.dedupe_key:
            # Still unique; nothing can cause the same notification again.
            values["dedupe_key"] = f"erased:{notification.id}"
        if any(getattr(notification, key) != value for key, value in values.items()):
            await repository.rewrite_notification(notification.id, **values)
            changed += 1
    return changed
