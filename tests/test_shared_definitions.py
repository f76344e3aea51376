"""Values defined once in rapport_common, and the places that must agree with them.

The API's schemas keep their Literal types, so the OpenAPI document stays as it was;
these tests keep those Literals equal to the enums the tables are constrained by."""

import types
from enum import StrEnum
from typing import Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from rapport_common.events import (
    GRAPH_EVENT_TYPES,
    HOW_WE_MET_PHRASES,
    HowWeMet,
    IntroductionDeclinedV1,
    InvitationReportedV1,
    MemberRegisteredV1,
    MemberUpdatedV1,
)
from rapport_common.models.enums import (
    ConnectionVisibility,
    FindableBy,
    IntroductionDecliner,
    IntroductionRole,
    IntroductionStatus,
    InvitationStatus,
    NetworkingStance,
    Reachability,
    RecommendationStatus,
    ReferralStatus,
    ReportReason,
    WebhookMessageStatus,
)
from rapport_common.models.notifications import NudgeSettings
from rapport_common.settings import DEFAULT_NUDGE_FADE, NotificationSettings
from services.api.introductions.schemas import IntroductionOut
from services.api.invitations.schemas import InvitationOut, ReferralOut, ReportIn
from services.api.members.schemas import MeOut, MeUpdateIn
from services.api.notifications.schemas import NudgeSettingsIn
from services.api.recommendations.schemas import RecommendationOut
from services.api.webhooks.schemas import MessageOut
from services.graph.projection.apply import PROJECTORS


def _literal_values(model: type[BaseModel], field: str) -> set[str]:
    """The values of a field typed ``Literal[...]`` or ``Literal[...] | None``."""
    annotation = model.model_fields[field].annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    return set(get_args(annotation))


@pytest.mark.parametrize(
    ("model", "field", "values"),
    [
        (InvitationOut, "status", InvitationStatus),
        (ReferralOut, "status", ReferralStatus),
        (ReportIn, "reason", ReportReason),
        (InvitationReportedV1, "reason", ReportReason),
        (IntroductionOut, "status", IntroductionStatus),
        (IntroductionOut, "my_role", IntroductionRole),
        (IntroductionOut, "declined_by", IntroductionDecliner),
        (IntroductionDeclinedV1, "declined_by", IntroductionDecliner),
        (MessageOut, "status", WebhookMessageStatus),
        (RecommendationOut, "status", RecommendationStatus),
        (MeOut, "networking_stance", NetworkingStance),
        (MeOut, "connections_visible_to", ConnectionVisibility),
        (MeUpdateIn, "networking_stance", NetworkingStance),
        (MeUpdateIn, "connections_visible_to", ConnectionVisibility),
        (MeOut, "reachable_by", Reachability),
        (MeUpdateIn, "reachable_by", Reachability),
        (MeOut, "findable_by", FindableBy),
        (MeUpdateIn, "findable_by", FindableBy),
        (MeOut, "recommendations_visible_to", ConnectionVisibility),
        (MeUpdateIn, "recommendations_visible_to", ConnectionVisibility),
        (MemberRegisteredV1, "connections_visible_to", ConnectionVisibility),
        (MemberRegisteredV1, "reachable_by", Reachability),
        (MemberUpdatedV1, "connections_visible_to", ConnectionVisibility),
        (MemberUpdatedV1, "reachable_by", Reachability),
    ],
)
def test_a_schema_offers_exactly_the_stored_values(
    model: type[BaseModel], field: str, values: type[StrEnum]
) -> None:
    assert _literal_values(model, field) == {member.value for member in values}


def test_the_graph_projects_exactly_the_graph_event_types() -> None:
    assert PROJECTORS.keys() == GRAPH_EVENT_TYPES


def test_every_way_of_meeting_has_a_phrase() -> None:
    assert HOW_WE_MET_PHRASES.keys() == set(get_args(HowWeMet))


def test_the_nudge_fade_defaults_to_one_value() -> None:
    column_default = NudgeSettings.__table__.c.min_fade.default
    assert column_default is not None
    assert column_default.arg == DEFAULT_NUDGE_FADE
    assert NotificationSettings().nudge_default_fade == DEFAULT_NUDGE_FADE
    assert NudgeSettingsIn().min_fade == DEFAULT_NUDGE_FADE
