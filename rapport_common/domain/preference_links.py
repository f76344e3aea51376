"""The signed links in every email that change, without signing in, how one kind of
message reaches one member: the one-click unsubscribe (RFC 8058) and the footer's
settings page.

The notifier writes them into each email, the API honours them: both use these
functions, so one key signs and checks them. A link never expires (an unsubscribe must
work whenever the member finds the email) and grants one thing only: changing how that
kind of email reaches that member.
"""

import uuid
from datetime import datetime

from rapport_common.domain.email_links import InvalidLink, sign, verify
from rapport_common.settings import Settings

_JOIN = ":"


def token(settings: Settings, member_id: uuid.UUID, kind: str) -> str:
    key = settings.email_invitations.link_key.get_secret_value()
    return sign(key, "unsubscribe", f"{member_id}{_JOIN}{kind}", expires=None)


def read(settings: Settings, signed: str, now: datetime) -> tuple[uuid.UUID, str]:
    """The member and kind a token names; ``InvalidLink`` for anything we did not sign
    for this purpose, or altered."""
    key = settings.email_invitations.link_key.get_secret_value()
    subject = verify(key, "unsubscribe", signed, now)
    member, _, kind = subject.partition(_JOIN)
    try:
        return uuid.UUID(member), kind
    except ValueError as exc:
        raise InvalidLink("malformed subject") from exc


def unsubscribe_url(settings: Settings, member_id: uuid.UUID, kind: str) -> str:
    return settings.notifications.unsubscribe_url.format(
        public=settings.api.public_url.rstrip("/"), token=token(settings, member_id, kind)
    )


def settings_url(settings: Settings, member_id: uuid.UUID, kind: str) -> str:
    return settings.notifications.settings_url.format(
        public=settings.api.public_url.rstrip("/"), token=token(settings, member_id, kind)
    )
