"""Which outbox events reach partners, as which webhook event, for which members.

Each payload is built for its recipient: the other member is ``member_id``, and a
connection's rating is only ever the recipient's own.
"""

import uuid
from dataclasses import dataclass

from pydantic import BaseModel

from rapport_common.events import (
    ConnectionCreatedV1,
    ConnectionRemovedV1,
    EventEnvelope,
    IntroductionAcceptedV1,
    IntroductionDeclinedV1,
    IntroductionEventV1,
    InvitationDeclinedV1,
    InvitationEventV1,
    InvitationSentV1,
    RecommendationEventV1,
    parse_payload,
)
from rapport_common.webhooks.payloads import (
    ConnectionCreatedData,
    ConnectionRemovedData,
    IntroductionAcceptedData,
    IntroductionData,
    IntroductionDeclinedData,
    IntroductionRole,
    InvitationAcceptedData,
    InvitationDeclinedData,
    InvitationReceivedData,
    RecommendationData,
)

# Outbox events that tell no one: an introduction closed by a block (the blocked member
# is never told).
QUIET_EVENTS = frozenset({"introduction.closed"})


@dataclass(frozen=True)
class Route:
    member_id: uuid.UUID
    event_type: str
    data: BaseModel


def _invitation(event_type: str, event: InvitationEventV1) -> list[Route]:
    if isinstance(event, InvitationSentV1):
        data: BaseModel = InvitationReceivedData(
            invitation_id=event.invitation_id,
            member_id=event.inviter_id,
            how_we_met=event.how_we_met,
            referrer_id=event.referrer_id,
        )
        return [Route(event.invitee_id, "invitation.received", data)]
    if isinstance(event, InvitationDeclinedV1):
        data = InvitationDeclinedData(
            invitation_id=event.invitation_id, member_id=event.invitee_id, note=event.note
        )
        return [Route(event.inviter_id, "invitation.declined", data)]
    # ``automatic`` is left out: it would tell the inviter how the invitee's policy works.
    data = InvitationAcceptedData(invitation_id=event.invitation_id, member_id=event.invitee_id)
    return [Route(event.inviter_id, event_type, data)]


def _connection_created(event: ConnectionCreatedV1) -> list[Route]:
    sides = (
        (event.inviter_id, event.invitee_id, event.inviter_rating),
        (event.invitee_id, event.inviter_id, event.invitee_rating),
    )
    return [
        Route(
            me,
            "connection.created",
            ConnectionCreatedData(
                member_id=other,
                how_we_met=event.how_we_met,
                connected_at=event.connected_at,
                my_rating=my_rating,
            ),
        )
        for me, other, my_rating in sides
    ]


def _connection_removed(event: ConnectionRemovedV1) -> list[Route]:
    pairs = ((event.member_id, event.other_member_id), (event.other_member_id, event.member_id))
    return [
        Route(
            me,
            "connection.removed",
            ConnectionRemovedData(
                member_id=other, removed_by=event.member_id, removed_at=event.removed_at
            ),
        )
        for me, other in pairs
    ]


def _introduction(event_type: str, event: IntroductionEventV1) -> list[Route]:
    roles: dict[IntroductionRole, uuid.UUID] = {
        "requester": event.requester_id,
        "intermediary": event.intermediary_id,
    }
    # The target takes part once the intermediary forwards it; a request the intermediary
    # declined never reaches them.
    declined_early = isinstance(event, IntroductionDeclinedV1) and (
        event.declined_by == "intermediary"
    )
    if event_type != "introduction.requested" and not declined_early:
        roles["target"] = event.target_id
    fields = event.model_dump()
    routes = []
    for role, member_id in roles.items():
        data: BaseModel
        if isinstance(event, IntroductionDeclinedV1):
            data = IntroductionDeclinedData(**fields, my_role=role)
        elif isinstance(event, IntroductionAcceptedV1):
            data = IntroductionAcceptedData(**fields, my_role=role)
        else:
            data = IntroductionData(**fields, my_role=role)
        routes.append(Route(member_id, event_type, data))
    return routes


def _recommendation(event_type: str, event: RecommendationEventV1) -> list[Route]:
    if event_type == "recommendation.requested":
        to, other = event.subject_id, event.author_id
    elif event_type == "recommendation.approved":
        to, other = event.author_id, event.subject_id
    else:
        return []  # declined, hidden, shown, withdrawn: not sent
    data = RecommendationData(recommendation_id=event.recommendation_id, member_id=other)
    return [Route(to, event_type, data)]


# The outbox events that may reach partners (``route`` decides for whom).
ROUTED_TYPES = frozenset(
    {"invitation.sent", "invitation.accepted", "invitation.declined"}
    | {"connection.created", "connection.removed"}
)
ROUTED_PREFIXES = ("introduction.", "recommendation.")


def may_route(envelope: EventEnvelope) -> bool:
    """Whether ``route`` may find deliveries for the event: false for most events."""
    if envelope.version != 1 or envelope.type in QUIET_EVENTS:
        return False  # a new version gets its own mapping when it is introduced
    return envelope.type in ROUTED_TYPES or envelope.type.startswith(ROUTED_PREFIXES)


def route(envelope: EventEnvelope) -> list[Route]:
    """The webhook deliveries an outbox event calls for; none for most events."""
    if not may_route(envelope):
        return []
    if envelope.type in ("invitation.sent", "invitation.accepted", "invitation.declined"):
        event = parse_payload(envelope)
        assert isinstance(event, InvitationEventV1)
        return _invitation(envelope.type, event)
    if envelope.type.startswith("introduction."):
        event = parse_payload(envelope)
        assert isinstance(event, IntroductionEventV1)
        return _introduction(envelope.type, event)
    if envelope.type.startswith("recommendation."):
        recommendation = parse_payload(envelope)
        assert isinstance(recommendation, RecommendationEventV1)
        return _recommendation(envelope.type, recommendation)
    if envelope.type == "connection.created":
        created = parse_payload(envelope)
        assert isinstance(created, ConnectionCreatedV1)
        return _connection_created(created)
    if envelope.type == "connection.removed":
        removed = parse_payload(envelope)
        assert isinstance(removed, ConnectionRemovedV1)
        return _connection_removed(removed)
    return []
