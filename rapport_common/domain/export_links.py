"""The signed link to a member's data export: made by the notifier for the email and by
the API for the export resource, checked by the API's download. It works without signing
in (it is clicked from an email), so it carries its export's id and the end of the
download window, signed with the link key."""

import uuid
from datetime import datetime

from rapport_common.domain import email_links
from rapport_common.domain.email_links import ExpiredLink, InvalidLink
from rapport_common.settings import Settings

__all__ = ["ExpiredLink", "InvalidLink", "download_token", "download_url", "export_of"]


def download_token(settings: Settings, export_id: uuid.UUID, expires_at: datetime) -> str:
    key = settings.email_invitations.link_key.get_secret_value()
    return email_links.sign(key, "export", str(export_id), expires_at)


def download_url(settings: Settings, export_id: uuid.UUID, expires_at: datetime) -> str:
    return settings.exports.download_url.format(
        public=settings.api.public_url.rstrip("/"),
        export_id=export_id,
        token=download_token(settings, export_id, expires_at),
    )


def export_of(settings: Settings, token: str, now: datetime) -> uuid.UUID:
    """The export a download token was signed for: ``InvalidLink`` for a token we did not
    sign for an export (or one altered), ``ExpiredLink`` past its download window."""
    key = settings.email_invitations.link_key.get_secret_value()
    subject = email_links.verify(key, "export", token, now)
    try:
        return uuid.UUID(subject)
    except ValueError as exc:
        raise InvalidLink("not an export link") from exc
