"""The sender of an invitation by email cannot tell a member's address from any other:
whatever the address, they see the same answer, headers, lists, notifications, emails
and webhooks, before and after the member declines."""

import json
import re
import typing
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.models.blocks import Block
from rapport_common.models.webhooks import WebhookEndpoint, WebhookMessage
from rapport_common.settings import Settings
from rapport_common.webhooks.payloads import WebhookEventType
from tests.api.test_email_invitations import invite_by_email, new_address
from tests.conftest import SteppingClock
from tests.factories import SignedIn, connect, sign_in
from tests.notifier.conftest import Mailbox
from tests.notifier.test_do_not_contact import _stop
from tests.webhooks.receiver import Receiver

Sessions = async_sessionmaker[AsyncSession]
RunWorker = Callable[[], Awaitable[None]]

# Replaced before comparing: what differs between any two senders, never the case.
VARYING = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # ids
    r"|[\w.+-]+@[\w.-]+"  # addresses
    r"|\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?"  # moments
    r"|\"next_cursor\": \"[^\"]+\""
)


def _same_for_any_sender(document: Any) -> str:
    return VARYING.sub("*", json.dumps(document, sort_keys=True))


class World:
    """One sender, connected to one friend (so its limits have a history), with a
    webhook endpoint for every event type."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        db: Sessions,
        mailbox: Mailbox,
        receiver: Receiver,
        settings: Settings,
    ) -> None:
        self.client, self.db, self.mailbox = client, db, mailbox
        self.receiver, self.settings = receiver, settings

    async def start(self) -> None:
        self.sender = await sign_in(self.client, "Sam Sender")
        self.friend = await sign_in(self.client, "Fran Friend")
        await connect(self.client, self.sender, self.friend)
        endpoint = await self.client.post(
            "/v1/webhooks/endpoints",
            json={
                "url": self.receiver.url(f"/{self.sender.member_id}"),
                "event_types": list(typing.get_args(WebhookEventType)),
            },
            headers=self.sender.headers,
        )
        assert endpoint.status_code == 201, endpoint.text

    async def recipient(self, case: str) -> tuple[str, SignedIn | None]:
        """The address to invite, and its member if it has one."""
        if case == "connected_member":
            return self.friend.email, self.friend
        if case in ("findable_member", "unfindable_member", "member_who_blocked_the_sender"):
            member = await sign_in(self.client, "Rita Recipient")
            if case == "unfindable_member":
                hidden = await self.client.patch(
                    "/v1/me", json={"findable_by_email": False}, headers=member.headers
                )
                assert hidden.status_code == 200, hidden.text
            if case == "member_who_blocked_the_sender":
                async with self.db() as session, session.begin():
                    session.add(
                        Block(blocker_id=member.member_id, blocked_id=self.sender.member_id)
                    )
            return member.email, member
        address = new_address()
        if case == "address_on_the_do_not_contact_list":
            await _stop(self.client, self.settings, address)
        elif case == "address_capped_by_another_sender":
            other = await sign_in(self.client, "Oscar Other")
            assert (await invite_by_email(self.client, other, address)).status_code == 201
        return address, None

    async def answer(self, address: str) -> dict[str, Any]:
        response = await invite_by_email(self.client, self.sender, address)
        return {
            "status": response.status_code,
            "body": _same_for_any_sender(response.json()),
            "headers": {
                name: response.headers.get(name)
                for name in ("ratelimit", "ratelimit-policy", "retry-after", "content-type")
            },
        }

    async def seen_by_sender(self) -> dict[str, Any]:
        reads: dict[str, Any] = {}
        for path in ("/v1/invitations?box=sent", "/v1/invitations/by-email", "/v1/notifications"):
            response = await self.client.get(path, headers=self.sender.headers)
            reads[path] = _same_for_any_sender(response.json())
        async with self.db() as session:
            webhooks = await session.execute(
                select(WebhookMessage.event_type)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_id)
                .where(WebhookEndpoint.member_id == self.sender.member_id)
            )
            reads["webhooks"] = sorted(webhooks.scalars())
        reads["emails"] = sorted(
            str(m["Subject"]) for m in self.mailbox.messages_to(self.sender.email)
        )
        return reads

    async def decline_by_hand(self, member: SignedIn | None) -> None:
        if member is None:
            return
        received = await self.client.get("/v1/invitations", headers=member.headers)
        for invitation in received.json()["items"]:
            if invitation["inviter"]["member_id"] == str(self.sender.member_id):
                declined = await self.client.post(
                    f"/v1/invitations/{invitation['invitation_id']}/decline",
                    json={"note": "Who are you?"},
                    headers=member.headers,
                )
                assert declined.status_code == 200, declined.text


CASES = [
    "findable_member",
    "unfindable_member",
    "member_who_blocked_the_sender",
    "connected_member",
    "address_on_the_do_not_contact_list",
    "address_capped_by_another_sender",
]


@pytest.mark.parametrize("case", CASES)
async def test_the_sender_cannot_tell_a_member_address_from_a_non_member_address(
    case: str,
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    mailbox: Mailbox,
    receiver: Receiver,
    settings: Settings,
    run_worker: RunWorker,
    clock: SteppingClock,
) -> None:
    fresh, tested = (
        World(committed_client, committed_db, mailbox, receiver, settings) for _ in range(2)
    )
    for world in (fresh, tested):
        await world.start()
    fresh_address, _ = await fresh.recipient("fresh_address")
    address, member = await tested.recipient(case)

    assert await tested.answer(address) == await fresh.answer(fresh_address)
    await run_worker()
    assert await tested.seen_by_sender() == await fresh.seen_by_sender()

    await tested.decline_by_hand(member)
    await run_worker()
    assert await tested.seen_by_sender() == await fresh.seen_by_sender()
    if case == "findable_member":
        assert member is not None  # the case is not vacuous: the member did get it
        feed = (await committed_client.get("/v1/notifications", headers=member.headers)).json()
        assert "invitation_received" in [n["kind"] for n in feed["items"]]
