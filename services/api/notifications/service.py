"""Notification preferences: what a member chose for each kind, read and changed from
the API (signed in) or from the links in an email (a signed token, no sign-in)."""

import uuid
from datetime import datetime

from rapport_common.domain import notification_kinds, preference_links
from rapport_common.domain.email_links import InvalidLink
from rapport_common.models.enums import EmailDelivery
from rapport_common.models.members import Member
from rapport_common.models.notifications import NotificationPreference
from rapport_common.repositories.members import MemberRepository
from rapport_common.settings import Settings
from rapport_common.web.problems import NotFound
from services.api.notifications.repository import NotificationRepository
from services.api.notifications.schemas import (
    PreferenceOut,
    PreferencesOut,
    PreferencesPatchIn,
    PreferencesPutIn,
)


class PreferenceLinkInvalid(NotFound):
    slug, title = "preference-link-invalid", "No such email preference link"


def _entry(kind: str, stored: NotificationPreference | None) -> PreferenceOut:
    choice = notification_kinds.CHOICES[kind]
    applied = notification_kinds.apply(
        kind, stored.email if stored else None, stored.in_app if stored else None
    )
    return PreferenceOut(
        kind=kind,
        label=choice.label,
        email=applied.email.value,
        in_app=applied.in_feed,
        email_options=[option.value for option in choice.email_options],
        changeable=True,
    )


def listing(member: Member, stored: dict[str, NotificationPreference], hour: int) -> PreferencesOut:
    """Every kind with its setting (the defaults where nothing is stored), and the one
    entry for the account emails, which cannot be changed."""
    entries = [_entry(kind, stored.get(kind)) for kind in notification_kinds.CHOICES]
    entries.append(
        PreferenceOut(
            kind=notification_kinds.ESSENTIAL,
            label=notification_kinds.ESSENTIAL_LABEL,
            email="instant",
            in_app=True,
            email_options=["instant"],
            changeable=False,
        )
    )
    return PreferencesOut(
        preferences=entries, digest_hour=hour, time_zone=member.time_zone or "UTC"
    )


async def patch(
    repository: NotificationRepository,
    member_id: uuid.UUID,
    changes: PreferencesPatchIn,
    now: datetime,
) -> None:
    stored = await repository.preferences(member_id)
    entries: list[dict[str, object]] = []
    for change in changes.preferences:
        current = _entry(change.kind, stored.get(change.kind))
        entries.append(
            {
                "kind": change.kind,
                "email": EmailDelivery(change.email or current.email),
                "in_app": current.in_app if change.in_app is None else change.in_app,
                "updated_at": now,
            }
        )
    await repository.save_preferences(member_id, entries)


async def replace(
    repository: NotificationRepository,
    member_id: uuid.UUID,
    wanted: PreferencesPutIn,
    now: datetime,
) -> None:
    await repository.forget_preferences(member_id)
    await repository.save_preferences(
        member_id,
        [
            {
                "kind": entry.kind,
                "email": EmailDelivery(entry.email),
                "in_app": entry.in_app,
                "updated_at": now,
            }
            for entry in wanted.preferences
        ],
    )


async def from_link(
    repository: NotificationRepository, settings: Settings, token: str, now: datetime
) -> tuple[Member, str]:
    """The member and kind an email's preference link names; 404 for a token we did not
    sign (or that was altered), a kind no longer switchable, or a member who is gone."""
    invalid = PreferenceLinkInvalid(
        "This is not an email preference link of ours; check that it was copied whole."
    )
    try:
        member_id, kind = preference_links.read(settings, token, now)
    except InvalidLink as exc:
        raise invalid from exc
    if not notification_kinds.has_unsubscribe(kind):
        raise invalid
    member = await MemberRepository(repository.session).get(member_id)
    if member is None:
        raise invalid
    return member, kind


def kinds_of_link(kind: str, stored: dict[str, NotificationPreference]) -> list[str]:
    """The kinds a link changes: its own, or for the digest's link every kind now
    gathered in the digest."""
    if kind != notification_kinds.DIGEST:
        return [kind]
    return [
        name
        for name in notification_kinds.CHOICES
        if email_of(name, stored) == EmailDelivery.DIGEST
    ]


async def set_email(
    repository: NotificationRepository,
    member_id: uuid.UUID,
    kinds: list[str],
    email: EmailDelivery,
    now: datetime,
) -> None:
    """Email ``kinds`` as ``email`` says (a kind that allows no digest gets each one);
    the in-app setting stays as it is."""
    stored = await repository.preferences(member_id)
    entries: list[dict[str, object]] = []
    for kind in kinds:
        choice = notification_kinds.CHOICES[kind]
        entries.append(
            {
                "kind": kind,
                "email": email if email in choice.email_options else EmailDelivery.INSTANT,
                "in_app": _entry(kind, stored.get(kind)).in_app,
                "updated_at": now,
            }
        )
    await repository.save_preferences(member_id, entries)


def email_of(kind: str, stored: dict[str, NotificationPreference]) -> EmailDelivery:
    return EmailDelivery(_entry(kind, stored.get(kind)).email)


def describe(kind: str) -> str:
    if kind == notification_kinds.DIGEST:
        return "Your daily digest"
    return notification_kinds.CHOICES[kind].label
