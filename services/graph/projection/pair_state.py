"""What the graph knows about one pair of members, as registers merged by outbox sequence.

Every connection event updates registers that commute: the latest creation, the latest
removal and each side's latest rating win by sequence (a creation's initial ratings count
as ratings at the creation's sequence), and the last interaction is a maximum. So a set
of events gives one state whatever the order they arrive in and however often each
arrives. The state is then stored in one canonical form:

- connected (the latest creation is newer than the latest removal): one ``KNOWS``
  relationship, lower member id to higher, holding the creation, both ratings, the last
  interaction and the sequence of each;
- otherwise no relationship, and a ``ConnectionTombstone`` node keyed by the pair
  holding the removal's sequence, plus anything that arrived ahead of its creation
  (a rating or an interaction newer than the removal).

A tombstone also stays while connected when there was a removal, so a replayed older
``connection.created`` can never bring a removed connection back.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

Side = Literal["low", "high"]

# Sequences start at 1 in the outbox. Imported connections never came through it, so
# they read as sequence 0: any event about them is newer.
IMPORTED_SEQ = 0
NO_REMOVAL = -1


@dataclass(frozen=True)
class Rating:
    value: int | None
    seq: int


@dataclass(frozen=True)
class Creation:
    seq: int
    how_we_met: str
    connected_at: datetime


@dataclass(frozen=True)
class Interaction:
    occurred_at: datetime
    seq: int


def _latest_rating(current: Rating | None, incoming: Rating) -> Rating:
    return incoming if current is None or incoming.seq > current.seq else current


def _later_interaction(current: Interaction | None, incoming: Interaction) -> Interaction:
    if current is None:
        return incoming
    return max(current, incoming, key=lambda i: (i.occurred_at, i.seq))


def pair_key(low_id: str, high_id: str) -> str:
    return f"{low_id}:{high_id}"


def ordered(member_id: str, other_id: str) -> tuple[str, str]:
    """The pair in canonical order: the relationship runs from the lower id to the higher."""
    return (member_id, other_id) if member_id < other_id else (other_id, member_id)


@dataclass(frozen=True)
class PairState:
    creation: Creation | None = None
    removed_seq: int = NO_REMOVAL
    rating_low: Rating | None = None  # the lower id's rating of the higher id
    rating_high: Rating | None = None
    interaction: Interaction | None = None

    @property
    def connected(self) -> bool:
        return self.creation is not None and self.creation.seq > self.removed_seq

    def created(
        self, creation: Creation, rating_low: int | None, rating_high: int | None
    ) -> "PairState":
        newest = self.creation
        if newest is None or creation.seq > newest.seq:
            newest = creation
        return replace(
            self,
            creation=newest,
            rating_low=_latest_rating(self.rating_low, Rating(rating_low, creation.seq)),
            rating_high=_latest_rating(self.rating_high, Rating(rating_high, creation.seq)),
        ).canonical()

    def rated(self, side: Side, rating: Rating) -> "PairState":
        if side == "low":
            return replace(self, rating_low=_latest_rating(self.rating_low, rating)).canonical()
        return replace(self, rating_high=_latest_rating(self.rating_high, rating)).canonical()

    def removed(self, seq: int) -> "PairState":
        return replace(self, removed_seq=max(self.removed_seq, seq)).canonical()

    def interacted(self, interaction: Interaction) -> "PairState":
        merged = _later_interaction(self.interaction, interaction)
        return replace(self, interaction=merged).canonical()

    def canonical(self) -> "PairState":
        """Drop what no future event can bring back into play: what is older than the
        live creation while connected, or not newer than the removal while not."""
        if self.connected:
            assert self.creation is not None
            live_since = self.creation.seq

            def keep(seq: int) -> bool:
                # The live creation's own ratings sit exactly at its sequence.
                return seq >= live_since

            creation: Creation | None = self.creation
        else:
            removed_seq = self.removed_seq

            def keep(seq: int) -> bool:
                return seq > removed_seq

            creation = None
        return PairState(
            creation=creation,
            removed_seq=self.removed_seq,
            rating_low=self.rating_low if self.rating_low and keep(self.rating_low.seq) else None,
            rating_high=(
                self.rating_high if self.rating_high and keep(self.rating_high.seq) else None
            ),
            interaction=(
                self.interaction if self.interaction and keep(self.interaction.seq) else None
            ),
        )

    @classmethod
    def from_stored(
        cls, knows: dict[str, Any] | None, tombstone: dict[str, Any] | None
    ) -> "PairState":
        state = cls()
        if tombstone is not None:
            state = PairState(
                removed_seq=tombstone.get("removed_seq", NO_REMOVAL),
                rating_low=_stored_rating(tombstone, "pending_rating_low"),
                rating_high=_stored_rating(tombstone, "pending_rating_high"),
                interaction=_stored_interaction(tombstone, "pending_last_interaction"),
            )
        if knows is not None:
            creation = Creation(
                seq=knows.get("created_seq", IMPORTED_SEQ),
                how_we_met=knows["how_we_met"],
                connected_at=_native(knows["created_at"]),
            )
            state = state.created(creation, knows.get("rating_low"), knows.get("rating_high"))
            for side in ("low", "high"):
                rating = _stored_rating(knows, f"rating_{side}")
                if rating is not None:
                    state = state.rated(side, rating)
            interaction = _stored_interaction(knows, "last_interaction")
            if interaction is not None:
                state = state.interacted(interaction)
        return state.canonical()

    def to_stored(
        self, low_id: str, high_id: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The properties of the relationship and of the tombstone; ``None`` for absent."""
        knows = None
        if self.connected:
            assert self.creation is not None
            knows = {
                "how_we_met": self.creation.how_we_met,
                "created_at": self.creation.connected_at,
                "created_seq": self.creation.seq,
                **_rating_properties("rating_low", self.rating_low),
                **_rating_properties("rating_high", self.rating_high),
                **_interaction_properties("last_interaction", self.interaction),
                "event_seq": max(
                    self.creation.seq,
                    *(r.seq for r in (self.rating_low, self.rating_high) if r is not None),
                    self.interaction.seq if self.interaction else IMPORTED_SEQ,
                ),
            }
        pending = (
            {}
            if self.connected
            else {
                **_rating_properties("pending_rating_low", self.rating_low),
                **_rating_properties("pending_rating_high", self.rating_high),
                **_interaction_properties("pending_last_interaction", self.interaction),
            }
        )
        if self.removed_seq == NO_REMOVAL and not any(v is not None for v in pending.values()):
            return knows, None
        tombstone = {
            "pair_key": pair_key(low_id, high_id),
            "low_id": low_id,
            "high_id": high_id,
            "removed_seq": None if self.removed_seq == NO_REMOVAL else self.removed_seq,
            **pending,
        }
        return knows, {k: v for k, v in tombstone.items() if v is not None}


def _native(value: Any) -> datetime:
    moment: datetime = value.to_native() if hasattr(value, "to_native") else value
    return moment.astimezone(UTC)


def _stored_rating(properties: dict[str, Any], name: str) -> Rating | None:
    if f"{name}_seq" not in properties:
        return None
    return Rating(properties.get(name), properties[f"{name}_seq"])


def _stored_interaction(properties: dict[str, Any], name: str) -> Interaction | None:
    if properties.get(f"{name}_at") is None:
        return None
    return Interaction(
        _native(properties[f"{name}_at"]), properties.get(f"{name}_seq", IMPORTED_SEQ)
    )


def _rating_properties(name: str, rating: Rating | None) -> dict[str, Any]:
    if rating is None:
        return {name: None, f"{name}_seq": None}
    return {name: rating.value, f"{name}_seq": rating.seq}


def _interaction_properties(name: str, interaction: Interaction | None) -> dict[str, Any]:
    if interaction is None:
        return {f"{name}_at": None, f"{name}_seq": None}
    return {f"{name}_at": interaction.occurred_at, f"{name}_seq": interaction.seq}
