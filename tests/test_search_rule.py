"""The sets search filters stored settings with (rapport_common/domain/privacy.py) agree
with the privacy rule's own functions, for every combination of settings. Pure."""

import itertools

import pytest

from rapport_common.domain import privacy
from rapport_common.domain.privacy import Consent
from rapport_common.models.enums import ConnectionVisibility, Reachability

ALL = [
    Consent(visible, allows, reach)
    for visible, allows, reach in itertools.product(
        ConnectionVisibility, (True, False), Reachability
    )
]


def test_all_eighteen_combinations_are_covered() -> None:
    assert len(set(ALL)) == 18


@pytest.mark.parametrize("member", ALL, ids=str)
def test_an_intermediary_filter_on_stored_settings_is_may_introduce(member: Consent) -> None:
    stored = member.allows_introductions and (
        member.visible_to in privacy.introducing_visibilities()
    )
    assert stored == privacy.may_introduce(member)


@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("hops", [2, 3])
def test_a_reach_filter_on_stored_settings_is_max_hops_to(target: Consent, hops: int) -> None:
    stored = (
        target.visible_to in privacy.introducing_visibilities()
        and target.reachable_by in privacy.reach_settings(hops)
    )
    assert stored == (privacy.max_hops_to(target) >= hops)
