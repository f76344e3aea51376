"""The privacy rule (rapport_common/domain/privacy.py) against docs/privacy.md, for every
combination of settings. Pure: no stores."""

import itertools
import uuid

import pytest

from rapport_common.domain import privacy
from rapport_common.domain.privacy import Consent
from rapport_common.models.enums import ConnectionVisibility, Reachability, ReferralStatus
from rapport_common.models.members import Member
from rapport_common.strength import band

ALL = [
    Consent(visible, allows, reach)
    for visible, allows, reach in itertools.product(
        ConnectionVisibility, (True, False), Reachability
    )
]


def test_all_eighteen_combinations_are_covered() -> None:
    assert len(set(ALL)) == 18


@pytest.mark.parametrize("intermediary", ALL, ids=str)
@pytest.mark.parametrize("target", ALL, ids=str)
def test_a_way_needs_the_intermediaries_consent_and_the_targets_reach(
    intermediary: Consent, target: Consent
) -> None:
    consents = intermediary.allows_introductions and intermediary.visible_to != "only_me"
    if target.visible_to == "only_me" or target.reachable_by == "nobody":
        longest = 1
    else:
        longest = 2 if target.reachable_by == "second_degree" else 3

    assert privacy.may_see_way([intermediary], target) == (consents and longest >= 2)
    assert privacy.may_see_way([intermediary, intermediary], target) == (consents and longest >= 3)
    assert privacy.max_hops_to(target) == longest


@pytest.mark.parametrize("member", ALL, ids=str)
@pytest.mark.parametrize("viewer_knows_member", [True, False])
def test_a_list_shows_a_members_side_only_to_the_audience_they_chose(
    member: Consent, viewer_knows_member: bool
) -> None:
    expected = member.visible_to == "everyone" or (
        member.visible_to == "connections" and viewer_knows_member
    )
    assert privacy.shows_in_lists(member, viewer_knows_member) == expected


@pytest.mark.parametrize("member", [c for c in ALL if c.visible_to == "only_me"], ids=str)
def test_only_me_is_never_an_intermediary_nor_reachable(member: Consent) -> None:
    assert not privacy.may_introduce(member)
    assert privacy.max_hops_to(member) == 1
    assert not privacy.shows_in_lists(member, viewer_knows_member=True)


def test_a_new_member_and_a_node_without_settings_have_the_same_defaults() -> None:
    member = Member(
        id=uuid.uuid4(),
        connections_visible_to=ConnectionVisibility.CONNECTIONS,
        allows_introductions=True,
        reachable_by=Reachability.EVERYONE,
    )
    assert Consent.of(member) == Consent.from_graph(None, None, None) == Consent()


def test_a_referral_policy_never_acts_on_the_link_check() -> None:
    assert privacy.referral_fact(ReferralStatus.FALSE_CLAIM) == ReferralStatus.UNVERIFIED
    for status in set(ReferralStatus) - {ReferralStatus.FALSE_CLAIM}:
        assert privacy.referral_fact(status) == status


def test_a_ranking_weight_stays_inside_the_band_it_stands_for() -> None:
    for tenth_of_percent in range(100, 1001):
        strength = tenth_of_percent / 1000
        assert band(privacy.rank_weight(strength)) == band(strength)
    assert len(set(privacy.BAND_WEIGHTS.values())) == 3
