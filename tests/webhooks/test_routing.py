"""Which members hear of which event: introductions reach the target only once forwarded."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from rapport_common.events import EventEnvelope
from services.notifier.webhooks.routing import route

REQUESTER, INTERMEDIARY, TARGET = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ROLES = {REQUESTER: "requester", INTERMEDIARY: "intermediary", TARGET: "target"}


def _envelope(event_type: str, **extra: Any) -> EventEnvelope:
    payload = {
        "introduction_id": str(uuid.uuid4()),
        "requester_id": str(REQUESTER),
        "intermediary_id": str(INTERMEDIARY),
        "target_id": str(TARGET),
        **extra,
    }
    return EventEnvelope(
        event_id=uuid.uuid4(),
        sequence=1,
        type=event_type,
        version=1,
        occurred_at=datetime(2026, 11, 26, tzinfo=UTC),
        payload=payload,
    )


@pytest.mark.parametrize(
    ("event_type", "extra", "recipients"),
    [
        ("introduction.requested", {}, {"requester", "intermediary"}),
        ("introduction.forwarded", {}, {"requester", "intermediary", "target"}),
        ("introduction.declined", {"declined_by": "intermediary"}, {"requester", "intermediary"}),
        (
            "introduction.declined",
            {"declined_by": "target"},
            {"requester", "intermediary", "target"},
        ),
        (
            "introduction.accepted",
            {"invitation_id": str(uuid.uuid4())},
            {"requester", "intermediary", "target"},
        ),
    ],
    ids=["requested", "forwarded", "declined-early", "declined-by-target", "accepted"],
)
def test_introduction_events_reach_only_the_members_involved_so_far(
    event_type: str, extra: dict[str, str], recipients: set[str]
) -> None:
    routes = route(_envelope(event_type, **extra))
    assert {ROLES[r.member_id] for r in routes} == recipients
    assert all(r.data.model_dump()["my_role"] == ROLES[r.member_id] for r in routes)


def test_events_partners_do_not_subscribe_to_are_not_routed() -> None:
    envelope = _envelope("introduction.requested").model_copy(update={"type": "member.updated"})
    assert route(envelope) == []
