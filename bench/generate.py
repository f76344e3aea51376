"""A seedable professional network, written in the plain CSV import format
(``services/graph/importers/plain_csv.py``). The distributions are documented in
bench/README.md, "The generated network"; the same seed and size write the same files.

    python -m bench.generate --scale 10k --seed 20260101 --out .local/bench/data/10k

Degrees are heavy-tailed: most members have 20-150 connections (log-normal), a few hubs
(recruiters and open networkers) have thousands (Pareto). Members belong to a market
area, and most of a regular member's connections stay inside it.
"""

import argparse
import json
import math
import random
import time
import uuid
from bisect import bisect
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from bench.config import AT, SCALES, SEED, Scale

VERSION = 1  # bump when the output for a seed changes, so cached data is rebuilt

AREAS = (
    "software", "finance", "healthcare", "education", "retail", "manufacturing", "energy",
    "logistics", "media", "legal", "real estate", "hospitality", "telecom", "automotive",
    "pharma", "insurance", "public sector", "consulting", "agriculture", "aerospace",
    "biotech", "construction", "design", "gaming", "marine", "mining", "nonprofit",
    "publishing", "research", "security", "sports", "textiles", "tourism", "utilities",
    "venture capital", "water", "wine", "chemicals", "robotics", "space",
)  # fmt: skip
FIRST = (
    "Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jonas", "Kiri",
    "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tomas", "Uma",
    "Vera", "Wei", "Xena", "Yusuf", "Zoe",
)  # fmt: skip
LAST = (
    "Abara", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe",
    "Rossi", "Silva", "Tanaka", "Ulloa", "Varga", "Weber", "Xu", "Yilmaz", "Zhou",
)  # fmt: skip

# Degrees. Regular members: log-normal with this spread, its median set so the total
# meets the size's connection target. Hubs: Pareto with this shape above HUB_MIN.
DEGREE_SIGMA = 0.55
DEGREE_RANGE = (3, 600)
HUB_SHARE = 0.003
HUB_MIN = 1_000
HUB_SHAPE = 1.5
RECRUITER_SHARE_OF_HUBS = 2 / 3
AREA_SKEW = 0.8  # area k gets a share proportional to 1 / (k + 1) ** AREA_SKEW
INSIDE_AREA = {"regular": 0.85, "hub": 0.35}  # chance a connection stays in the area
ALLOWS_INTRODUCTIONS = 0.9
UNRATED = 0.12  # chance a side has not rated the other


@dataclass(frozen=True)
class Kind:
    """How connections of one kind were made, are rated and are kept up."""

    how_we_met: dict[str, int]  # weights
    ratings: tuple[int, ...]  # weights of a base rating 1..10; each side adds -1, 0 or +1
    never_interacted: float
    interaction_mean_days: float  # exponential age of the last interaction


KINDS = {
    "inside": Kind(
        {"coffee": 20, "meal": 10, "beer": 10, "worked_together": 25, "event": 15,
         "known_online": 15, "never_met": 5},
        (2, 3, 5, 8, 12, 15, 18, 17, 12, 8), 0.25, 60.0,
    ),
    "across": Kind(
        {"coffee": 10, "meal": 5, "beer": 5, "worked_together": 15, "event": 25,
         "known_online": 35, "never_met": 5},
        (5, 8, 12, 16, 18, 16, 11, 7, 4, 3), 0.45, 150.0,
    ),
    "hub": Kind(
        {"coffee": 5, "event": 15, "known_online": 30, "never_met": 50},
        (20, 22, 20, 15, 10, 6, 4, 2, 1, 0), 0.7, 300.0,
    ),
}  # fmt: skip
CONNECTED_WITHIN_DAYS = 3_650  # connected_at is uniform over the ten years before AT


@dataclass(frozen=True)
class Manifest:
    version: int
    scale: str
    seed: int
    at: str
    members: int
    connections: int
    hubs: int
    recruiters: int
    market_areas: int
    inside_area_share: float
    unrated_share: float
    never_interacted_share: float
    degree_percentiles: dict[str, int]
    max_degree: int
    seconds: float


def _degrees(rng: random.Random, scale: Scale, hubs: set[int]) -> list[int]:
    hub_degrees = {h: min(scale.hub_cap, int(HUB_MIN * rng.paretovariate(HUB_SHAPE))) for h in hubs}
    regular = scale.members - len(hubs)
    # 4% more ends than the target, for the repeated pairs the matching drops.
    mean = (2.08 * scale.connections - sum(hub_degrees.values())) / regular
    mu = math.log(mean) - DEGREE_SIGMA**2 / 2
    low, high = DEGREE_RANGE
    return [
        hub_degrees[i]
        if i in hub_degrees
        else max(low, min(high, round(rng.lognormvariate(mu, DEGREE_SIGMA))))
        for i in range(scale.members)
    ]


def _edges(
    rng: random.Random, degrees: list[int], areas: list[int], hubs: set[int], n_areas: int
) -> list[tuple[int, int]]:
    """Stub matching: each member's ends go to its area's pool or to the shared pool; each
    pool is shuffled and paired. Self-loops and repeated pairs are dropped."""
    pools: list[list[int]] = [[] for _ in range(n_areas + 1)]
    for member, degree in enumerate(degrees):
        inside = INSIDE_AREA["hub" if member in hubs else "regular"]
        k = sum(1 for _ in range(degree) if rng.random() < inside)
        pools[areas[member]].extend([member] * k)
        pools[n_areas].extend([member] * (degree - k))
    n = len(degrees)
    seen: set[int] = set()
    edges = []
    for pool in pools:
        rng.shuffle(pool)
        for a, b in zip(pool[0::2], pool[1::2], strict=False):
            low, high = (a, b) if a < b else (b, a)
            key = low * n + high
            if a != b and key not in seen:
                seen.add(key)
                edges.append((a, b))
    return edges


class _Clock:
    """ISO 8601 (UTC, no offset) for a number of minutes before AT, cached per day."""

    def __init__(self) -> None:
        self.at_minutes = int(AT.timestamp()) // 60
        self.days: dict[int, str] = {}
        self.times = [f"T{m // 60:02d}:{m % 60:02d}:00" for m in range(1440)]

    def before_at(self, minutes: int) -> str:
        day, minute = divmod(self.at_minutes - minutes, 1440)
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        return text + self.times[minute]


def _chooser(rng: random.Random, weights: dict[str, int]) -> Any:
    names, cumulative = list(weights), list(accumulate(weights.values()))
    total = cumulative[-1]
    return lambda: names[bisect(cumulative, rng.random() * total)]


def generate(scale: Scale, seed: int, out: Path) -> Manifest:
    started = time.perf_counter()
    rng = random.Random(seed)
    n, n_areas = scale.members, scale.market_areas
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]
    area_weights = [1 / (k + 1) ** AREA_SKEW for k in range(n_areas)]
    areas = rng.choices(range(n_areas), weights=area_weights, k=n)
    hub_list = rng.sample(range(n), max(3, int(n * HUB_SHARE)))
    hubs = set(hub_list)
    recruiters = set(hub_list[: round(len(hub_list) * RECRUITER_SHARE_OF_HUBS)])
    degrees = _degrees(rng, scale, hubs)
    edges = _edges(rng, degrees, areas, hubs, n_areas)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "members.csv").open("w", encoding="utf-8", newline="") as handle:
        handle.write("member_id,name,is_recruiter,allows_introductions\n")
        for i, member_id in enumerate(ids):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            allows = "true" if rng.random() < ALLOWS_INTRODUCTIONS else "false"
            handle.write(f"{member_id},{name},{str(i in recruiters).lower()},{allows}\n")

    clock = _Clock()
    how = {kind: _chooser(rng, spec.how_we_met) for kind, spec in KINDS.items()}
    base = {
        kind: _chooser(rng, {str(r): w for r, w in enumerate(spec.ratings, 1)})
        for kind, spec in KINDS.items()
    }
    counts = {"inside": 0, "unrated": 0, "never": 0}
    with (out / "connections.csv").open("w", encoding="utf-8", newline="") as handle:
        handle.write(
            "member_id,other_member_id,member_rating,other_rating,how_we_met,"
            "connected_at,last_interaction_at\n"
        )
        lines = []
        for a, b in edges:
            inside = areas[a] == areas[b]
            kind = "hub" if a in recruiters or b in recruiters else "inside" if inside else "across"
            spec = KINDS[kind]
            counts["inside"] += inside
            ratings = []
            rating = int(base[kind]())
            for _ in range(2):
                if rng.random() < UNRATED:
                    ratings.append("")
                    counts["unrated"] += 1
                else:
                    ratings.append(str(max(1, min(10, rating + rng.choice((-1, 0, 0, 1))))))
            connected = rng.randrange(CONNECTED_WITHIN_DAYS * 1440)
            last = ""
            if rng.random() < spec.never_interacted:
                counts["never"] += 1
            else:
                age = int(rng.expovariate(1 / (spec.interaction_mean_days * 1440)))
                last = clock.before_at(min(age, connected))
            lines.append(
                f"{ids[a]},{ids[b]},{ratings[0]},{ratings[1]},{how[kind]()},"
                f"{clock.before_at(connected)},{last}\n"
            )
            if len(lines) >= 50_000:
                handle.writelines(lines)
                lines.clear()
        handle.writelines(lines)

    final_degrees = [0] * n
    for a, b in edges:
        final_degrees[a] += 1
        final_degrees[b] += 1
    ranked = sorted(final_degrees)
    manifest = Manifest(
        version=VERSION,
        scale=scale.name,
        seed=seed,
        at=AT.isoformat(),
        members=n,
        connections=len(edges),
        hubs=len(hubs),
        recruiters=len(recruiters),
        market_areas=n_areas,
        inside_area_share=round(counts["inside"] / len(edges), 4),
        unrated_share=round(counts["unrated"] / (2 * len(edges)), 4),
        never_interacted_share=round(counts["never"] / len(edges), 4),
        degree_percentiles={f"p{p}": ranked[min(n - 1, n * p // 100)] for p in (1, 10, 50, 90, 99)},
        max_degree=ranked[-1],
        seconds=round(time.perf_counter() - started, 1),
    )
    (out / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def dataset(scale: Scale, seed: int, root: Path) -> tuple[Path, Manifest]:
    """The generated files for this size and seed, made once and reused while the
    generator's version is unchanged (at 1m making them takes about 9 minutes). The
    manifest is written last, so files it vouches for are complete."""
    out = root / f"{scale.name}-seed{seed}"
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        stored = json.loads(manifest_path.read_text())
        same = (stored.get("version"), stored.get("scale"), stored.get("seed"))
        files = all((out / name).exists() for name in ("members.csv", "connections.csv"))
        if same == (VERSION, scale.name, seed) and files:
            return out, Manifest(**stored)
    return out, generate(scale, seed, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="10k")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(json.dumps(asdict(generate(SCALES[args.scale], args.seed, args.out)), indent=2))


if __name__ == "__main__":
    main()
