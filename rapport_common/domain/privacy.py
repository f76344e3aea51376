"""Who may learn what about other members' links (docs/privacy.md): the rule, once.

The API and the graph service both apply it; queries return raw settings and these
functions decide, so no Cypher or SQL restates the rule."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from rapport_common.models.enums import ConnectionVisibility as Visibility
from rapport_common.models.enums import Reachability, ReferralStatus
from rapport_common.models.members import Member
from rapport_common.strength import Band, band


@dataclass(frozen=True)
class Consent:
    """A member's three privacy settings, with the defaults a new member gets."""

    visible_to: Visibility = Visibility.CONNECTIONS
    allows_introductions: bool = True
    reachable_by: Reachability = Reachability.EVERYONE

    @classmethod
    def of(cls, member: Member) -> Self:
        return cls(
            Visibility(member.connections_visible_to),
            member.allows_introductions,
            Reachability(member.reachable_by),
        )

    @classmethod
    def from_graph(cls, visible_to: str | None, allows: bool | None, reach: str | None) -> Self:
        """A node without a property (known only through a connection, or imported)
        has the default."""
        return cls(
            Visibility(visible_to) if visible_to else cls.visible_to,
            cls.allows_introductions if allows is None else allows,
            Reachability(reach) if reach else cls.reachable_by,
        )


def list_audiences(viewer_knows_member: bool) -> frozenset[Visibility]:
    """The settings under which a member's side of a link shows in a list to a viewer
    (the viewer being neither end)."""
    if viewer_knows_member:
        return frozenset({Visibility.EVERYONE, Visibility.CONNECTIONS})
    return frozenset({Visibility.EVERYONE})


def shows_in_lists(member: Consent, viewer_knows_member: bool) -> bool:
    return member.visible_to in list_audiences(viewer_knows_member)


def may_introduce(member: Consent) -> bool:
    """Consent to stand between a viewer and a target: as an intermediary on a path, a
    mutual connection, in a degree, as the introducer of an introduction request."""
    return member.allows_introductions and member.visible_to != Visibility.ONLY_ME


_MAX_HOPS = {Reachability.EVERYONE: 3, Reachability.SECOND_DEGREE: 2, Reachability.NOBODY: 1}


def max_hops_to(target: Consent) -> int:
    """The longest way to the target a viewer may see; 1 means only a direct link."""
    if target.visible_to == Visibility.ONLY_ME:
        return 1
    return _MAX_HOPS[target.reachable_by]


def introducing_visibilities() -> frozenset[Visibility]:
    """The ``connections_visible_to`` values under which a member may stand between two
    others (with ``allows_introductions``) and under which a way to them may be seen at
    all: for a query that filters stored settings, as ``may_introduce`` decides."""
    return frozenset(v for v in Visibility if v != Visibility.ONLY_ME)


def reach_settings(hops: int) -> frozenset[Reachability]:
    """The ``reachable_by`` values that let a way of ``hops`` hops to a member be seen (for
    a member whose connections are not only_me), as ``max_hops_to`` decides."""
    return frozenset(r for r in Reachability if _MAX_HOPS[r] >= hops)


def may_see_way(intermediaries: Sequence[Consent], target: Consent) -> bool:
    return len(intermediaries) + 1 <= max_hops_to(target) and all(
        map(may_introduce, intermediaries)
    )


# One weight inside each band, so a ranking made of them is a function of the bands a
# path shows and reveals nothing finer.
BAND_WEIGHTS: dict[Band, float] = {"strong": 0.85, "good": 0.6, "weak": 0.3}


def rank_weight(strength: float) -> float:
    """All that a ranking may use of a strength: its band. band(rank_weight(s)) == band(s)."""
    return BAND_WEIGHTS[band(strength)]


def referral_fact(status: ReferralStatus) -> ReferralStatus:
    """What an invitee's policy may act on: the referrer's own answer, never the link
    check, so the sender sees the same outcome whether or not the referrer knows the
    invitee."""
    return ReferralStatus.UNVERIFIED if status == ReferralStatus.FALSE_CLAIM else status
