"""Recommendations reach members by email and webhook: the subject is asked to approve,
the author hears of the approval, and nothing else is told."""

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from rapport_common.events import EventEnvelope
from services.notifier.webhooks.routing import route
from tests.conftest import RunWorker, SteppingClock
from tests.factories import SignedIn, connect, sign_in_all
from tests.notifier.conftest import Mailbox, body_text
from tests.webhooks.receiver import Receiver

AUTHOR, SUBJECT = uuid.uuid4(), uuid.uuid4()


async def _subscribe(
    client: httpx.AsyncClient, member: SignedIn, receiver: Receiver, event_type: str
) -> None:
    response = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": receiver.url(f"/{member.member_id}"), "event_types": [event_type]},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text


async def test_recommendation_emails_and_webhooks_go_to_subject_then_author(
    committed_client: httpx.AsyncClient,
    clock: SteppingClock,
    mailbox: Mailbox,
    receiver: Receiver,
    run_worker: RunWorker,
) -> None:
    author, subject = await sign_in_all(committed_client, "Ada Author", "Sam Subject")
    await connect(committed_client, author, subject)
    await _subscribe(committed_client, subject, receiver, "recommendation.requested")
    await _subscribe(committed_client, author, receiver, "recommendation.approved")
    clock.advance(days=91)
    written = await committed_client.post(
        f"/v1/members/{subject.member_id}/recommendations",
        json={"body": "Sam ships."},
        headers=author.headers,
    )
    assert written.status_code == 201, written.text
    recommendation = written.json()["recommendation_id"]
    await run_worker()
    approved = await committed_client.post(
        f"/v1/recommendations/{recommendation}/approve", headers=subject.headers
    )
    assert approved.status_code == 200, approved.text
    await committed_client.post(
        f"/v1/recommendations/{recommendation}/hide", headers=subject.headers
    )
    await run_worker()

    [asked] = [m for m in mailbox.messages_to(subject.email) if "recommend" in str(m["Subject"])]
    assert str(asked["Subject"]) == "Ada Author wrote a recommendation of you"
    assert "Sam ships." in body_text(asked)
    [told] = [m for m in mailbox.messages_to(author.email) if "recommend" in str(m["Subject"])]
    assert str(told["Subject"]) == "Sam Subject approved your recommendation"
    hooks = [(r.path, r.body) for r in receiver.received]
    assert [path for path, _ in hooks] == [f"/{subject.member_id}", f"/{author.member_id}"]
    assert '"type":"recommendation.requested"' in hooks[0][1]
    assert f'"member_id":"{author.member_id}"' in hooks[0][1]
    assert '"type":"recommendation.approved"' in hooks[1][1]
    assert f'"member_id":"{subject.member_id}"' in hooks[1][1]


def _envelope(event_type: str) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid.uuid4(),
        sequence=1,
        type=event_type,
        version=1,
        occurred_at=datetime(2026, 12, 2, tzinfo=UTC),
        payload={
            "recommendation_id": str(uuid.uuid4()),
            "author_id": str(AUTHOR),
            "subject_id": str(SUBJECT),
        },
    )


@pytest.mark.parametrize(
    ("event_type", "recipients"),
    [
        ("recommendation.requested", [SUBJECT]),
        ("recommendation.approved", [AUTHOR]),
        ("recommendation.declined", []),
        ("recommendation.hidden", []),
        ("recommendation.shown", []),
        ("recommendation.withdrawn", []),
    ],
)
def test_only_a_request_and_an_approval_become_webhooks(
    event_type: str, recipients: list[uuid.UUID]
) -> None:
    assert [r.member_id for r in route(_envelope(event_type))] == recipients


def test_an_introduction_closed_by_a_block_becomes_no_webhook() -> None:
    closed = EventEnvelope(
        event_id=uuid.uuid4(),
        sequence=1,
        type="introduction.closed",
        version=1,
        occurred_at=datetime(2026, 12, 2, tzinfo=UTC),
        payload={
            "introduction_id": str(uuid.uuid4()),
            "requester_id": str(uuid.uuid4()),
            "intermediary_id": str(AUTHOR),
            "target_id": str(SUBJECT),
            "declined_by": "intermediary",
        },
    )
    assert route(closed) == []
