"""The feed's notifications as clients read them: `kind` from one enum, and a `data` typed
by its kind (a discriminated union in the OpenAPI document), read from the JSON the
notifier's writers store, old forms included."""

import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.domain import notification_kinds
from rapport_common.domain.notification_kinds import NotificationKind
from rapport_common.models.notifications import Notification
from services.api.notifications.schemas import NotificationOut
from tests.factories import sign_in_all

CATALOGUE = Path("services/notifier/notifications/catalogue/en.toml")
ONE_ID = str(uuid.uuid4())
# What each writer stores (the event consumer writes every value as text).
STORED: dict[NotificationKind, dict[str, Any]] = {
    **{
        kind: {"invitation_id": ONE_ID}
        for kind in (
            NotificationKind.INVITATION_RECEIVED,
            NotificationKind.INVITATION_DECLINED,
            NotificationKind.QUESTION_ASKED,
            NotificationKind.QUESTION_ANSWERED,
            NotificationKind.INVITATION_BACK,
            NotificationKind.REFERRAL_REQUESTED,
            NotificationKind.REFERRAL_OUTCOME,
            NotificationKind.REFERRAL_FALSE_CLAIM,
        )
    },
    NotificationKind.INVITATION_ACCEPTED: {"invitation_id": ONE_ID, "member_id": ONE_ID},
    **{
        kind: {"introduction_id": ONE_ID}
        for kind in (
            NotificationKind.INTRODUCTION_REQUESTED,
            NotificationKind.INTRODUCTION_FORWARDED,
            NotificationKind.INTRODUCTION_DECLINED,
            NotificationKind.INTRODUCTION_ACCEPTED,
        )
    },
    NotificationKind.RECOMMENDATION_REQUESTED: {"recommendation_id": ONE_ID},
    NotificationKind.RECOMMENDATION_APPROVED: {"recommendation_id": ONE_ID},
    NotificationKind.NUDGE: {"member_id": ONE_ID, "suggested_actions": ["coffee", "meal", "call"]},
    NotificationKind.WEBHOOK_ENDPOINT_DISABLED: {"endpoint_id": ONE_ID, "reason": "410 Gone"},
    NotificationKind.EXPORT_READY: {"export_id": ONE_ID},
    NotificationKind.DIGEST: {"count": 3, "local_date": "2026-12-03"},
}


def _variants() -> dict[str, str]:
    """kind -> the name of the one shape the API gives it."""
    union = get_args(get_args(NotificationOut)[0])
    found: dict[str, str] = {}
    for variant in union:
        for kind in get_args(variant.model_fields["kind"].annotation):
            assert kind not in found, f"{kind} has two shapes"
            found[kind] = variant.__name__
    return found


def test_every_kind_has_one_shape_a_catalogue_table_and_a_writer_form() -> None:
    kinds = {kind.value for kind in NotificationKind}
    assert set(_variants()) == kinds
    assert set(STORED) == set(NotificationKind)
    assert kinds <= set(tomllib.loads(CATALOGUE.read_text()))
    assert set(notification_kinds.CHOICES) <= kinds


def test_the_document_types_kind_as_the_discriminator_of_data(api_app: FastAPI) -> None:
    schemas = api_app.openapi()["components"]["schemas"]
    items = schemas["NotificationPage"]["properties"]["items"]["items"]
    mapping = items["discriminator"]["mapping"]
    assert items["discriminator"]["propertyName"] == "kind"
    assert set(mapping) == {kind.value for kind in NotificationKind}
    nudge = schemas["NudgeNotificationData"]["properties"]["suggested_actions"]
    assert nudge["type"] == "array" and "coffee" in nudge["items"]["enum"]


async def _store(
    db_session: AsyncSession, member_id: uuid.UUID, kind: str, data: dict[str, Any], at: datetime
) -> None:
    db_session.add(
        Notification(
            member_id=member_id,
            kind=kind,
            dedupe_key=f"test:{uuid.uuid4()}",
            subject=f"About {kind}",
            body_text="Text",
            body_html="<p>Text</p>",
            data=data,
            created_at=at,
            # As the digest writer stores it: the daily email itself, never in the feed.
            in_feed=kind != NotificationKind.DIGEST,
        )
    )
    await db_session.flush()


async def test_the_feed_types_the_data_of_every_kind(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    (ada,) = await sign_in_all(client, "Ada")
    start = datetime(2026, 12, 1, tzinfo=UTC)
    for n, (kind, data) in enumerate(STORED.items()):
        await _store(db_session, ada.member_id, kind, data, start + timedelta(minutes=n))
    response = await client.get("/v1/notifications?limit=100", headers=ada.headers)
    assert response.status_code == 200, response.text
    by_kind = {item["kind"]: item["data"] for item in response.json()["items"]}
    assert set(by_kind) == {kind.value for kind in NotificationKind} - {"digest"}
    assert by_kind["invitation_accepted"] == {"invitation_id": ONE_ID, "member_id": ONE_ID}
    assert by_kind["nudge"] == {
        "member_id": ONE_ID,
        "suggested_actions": ["coffee", "meal", "call"],
    }
    assert by_kind["webhook_endpoint_disabled"] == {"endpoint_id": ONE_ID, "reason": "410 Gone"}


async def test_older_forms_read_as_the_typed_data(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    """Nudges stored with "coffee,meal,call", acceptances stored without who accepted."""
    (ada,) = await sign_in_all(client, "Ada")
    at = datetime(2026, 12, 1, tzinfo=UTC)
    await _store(
        db_session,
        ada.member_id,
        "nudge",
        {"member_id": ONE_ID, "suggested_actions": "coffee,meal,call"},
        at,
    )
    await _store(db_session, ada.member_id, "invitation_accepted", {"invitation_id": ONE_ID}, at)
    items = (await client.get("/v1/notifications", headers=ada.headers)).json()["items"]
    by_kind = {item["kind"]: item["data"] for item in items}
    assert by_kind["nudge"]["suggested_actions"] == ["coffee", "meal", "call"]
    assert by_kind["invitation_accepted"] == {"invitation_id": ONE_ID, "member_id": None}


async def test_marking_read_answers_the_typed_notification(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    (ada,) = await sign_in_all(client, "Ada")
    at = datetime(2026, 12, 1, tzinfo=UTC)
    await _store(db_session, ada.member_id, "export_ready", {"export_id": ONE_ID}, at)
    [item] = (await client.get("/v1/notifications", headers=ada.headers)).json()["items"]
    response = await client.post(
        f"/v1/notifications/{item['notification_id']}/read", headers=ada.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"export_id": ONE_ID}
    assert response.json()["read_at"] is not None
