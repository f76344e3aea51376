"""Measurement 6: member search (GET /v1/members?q=) over the generated network loaded
into PostgreSQL, at concurrency 1 and 16, hubs apart.

Preparation (not measured): the generated members and connections are written straight
into PostgreSQL (``stores.load_search_network``), each member with a company, title,
headline and market area drawn from fixed lists (seed + 6), so the generator and its
cached files stay as they are. Searchers are members with at most 150 connections, plus
the 10 members with the most (hubs, reported apart: their closeness work is the largest).
"""

import csv
import random
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import config, stores
from bench.config import API_PORT, SEED, Scale
from bench.generate import AREAS
from bench.http import Connection
from bench.load import Run, fixed_count, fixed_window
from rapport_common.settings import Settings
from services.api.auth.tokens import issue_access_token

COMPANIES = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises",
    "Hooli", "Pied Piper", "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Aperture",
    "Black Mesa", "Massive Dynamic", "Oscorp", "Wonka", "Gringotts", "Monarch", "Dunder",
    "Sterling Cooper", "Prestige Worldwide", "Bluth", "Nakatomi", "Weyland", "Virtucon",
    "Gekko", "Krusty", "Oceanic", "Duff", "Zorg", "Omni", "Rekall", "Buy n Large",
    "Veridian", "Ollivanders", "Spacely", "Cogswell", "Bubba Gump", "Los Pollos",
)  # fmt: skip
TITLES = (
    "Engineer", "Senior engineer", "Product manager", "Designer", "Data scientist",
    "Analyst", "Sales lead", "Recruiter", "Founder", "CTO", "CFO", "Marketing manager",
    "Consultant", "Researcher", "Operations lead", "Account executive",
)  # fmt: skip
HEADLINES = (
    "Building things that last", "Helping teams ship", "Numbers and people",
    "Open to new opportunities", "Growth and partnerships", "Learning every day",
)  # fmt: skip
HUB_SEARCHERS = 10
MAX_SEARCHER_DEGREE = 150
# (share, kind) of the query mix, over a deterministic sequence.
MIX = ((40, "name"), (20, "prefix"), (20, "typo"), (10, "company"), (10, "area"))


def _members(data: Path, rng: random.Random) -> tuple[list[tuple[Any, ...]], list[str]]:
    """The rows to load, and each member's name in file order."""
    rows, names = [], []
    with (data / "members.csv").open(encoding="utf-8", newline="") as handle:
        for i, member in enumerate(csv.DictReader(handle)):
            recruiter = member["is_recruiter"] == "true"
            rows.append(
                (
                    uuid.UUID(member["member_id"]),
                    f"m{i}@bench.rapport.example",
                    "!",  # no password: these members never sign in, their tokens are issued
                    member["name"],
                    rng.choice(HEADLINES),
                    rng.choice(AREAS),
                    rng.choice(COMPANIES),
                    "Recruiter" if recruiter else rng.choice(TITLES),
                    recruiter,
                    member["allows_introductions"] == "true",
                    "closed",
                    "connections",
                    "everyone",
                    "everyone",
                )
            )
            names.append(member["name"])
    return rows, names


def _typo(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word))
    letters = "abcdefghijklmnopqrstuvwxyz".replace(word[at].lower(), "")
    return word[:at] + rng.choice(letters) + word[at + 1 :]


def queries(names: list[str], count: int, seed: int) -> list[str]:
    """``count`` queries in the proportions of ``MIX``, the same for a seed."""
    rng = random.Random(seed)
    kinds = [kind for share, kind in MIX for _ in range(share)]
    out = []
    for n in range(count):
        first, last = rng.choice(names).split(" ", 1)
        kind = kinds[n % len(kinds)]
        if kind == "name":
            out.append(f"{first} {last}")
        elif kind == "prefix":
            word = rng.choice((first, last))
            out.append(word[: rng.choice((3, 4))])
        elif kind == "typo":
            out.append(f"{first} {_typo(last, rng)}" if len(last) > 3 else f"{first} {last}")
        elif kind == "company":
            out.append(rng.choice(COMPANIES))
        else:
            out.append(rng.choice(AREAS))
    rng.shuffle(out)
    return out


class SearchBench:
    def __init__(self, settings: Settings, data: Path, scale: Scale) -> None:
        self.settings, self.data, self.scale = settings, data, scale
        self.api = [Connection("127.0.0.1", API_PORT) for _ in range(config.SEARCH_CONCURRENCY)]

    async def prepare(self) -> dict[str, Any]:
        rows, names = _members(self.data, random.Random(SEED + 6))
        loaded = await stores.load_search_network(
            self.settings, rows, self.data / "connections.csv"
        )
        degrees = await stores.degrees(self.settings)
        ranked = sorted(degrees, key=lambda member: (-degrees[member], member))
        rng = random.Random(SEED + 7)
        regular = sorted(m for m, d in degrees.items() if d <= MAX_SEARCHER_DEGREE)
        auth = self.settings.auth.model_copy(update={"access_token_minutes": 600})

        def headers(member_id: str) -> dict[str, str]:
            token, _ = issue_access_token(auth, uuid.UUID(member_id))
            return {"Authorization": f"Bearer {token}"}

        self.searchers = [headers(m) for m in rng.sample(regular, config.SEARCH_SEARCHERS)]
        self.hubs = [headers(m) for m in ranked[:HUB_SEARCHERS]]
        self.queries = queries(names, config.SEARCH_QUERIES, SEED + 8)
        return {
            "members": len(rows),
            "connections": loaded,
            "searchers": len(self.searchers),
            "hub_degrees": [degrees[m] for m in ranked[:HUB_SEARCHERS]],
        }

    def _op(self, searchers: list[dict[str, str]], hits: list[int]) -> Any:
        async def search(worker: int, n: int) -> bool:
            q = self.queries[n % len(self.queries)]
            path = "/v1/members?" + urlencode({"q": q, "limit": 20})
            response = await self.api[worker].request(
                "GET", path, None, searchers[n % len(searchers)]
            )
            if response.status != 200:
                raise RuntimeError(f"search {response.status}: {response.body[:200]!r}")
            hits.append(len(response.json()["items"]))
            return True

        return search

    async def measure(self) -> dict[str, Any]:
        hits: list[int] = []
        regular, hubs = self._op(self.searchers, hits), self._op(self.hubs, [])
        # Each step starts further along the query sequence, so none repeats the
        # warm-up's queries (PostgreSQL's buffers would flatter it).
        warmup, latency = config.SEARCH_WARMUP, config.SEARCH_LATENCY_REQUESTS
        await fixed_count(regular, warmup, config.SEARCH_CONCURRENCY)
        one = await fixed_count(regular, latency, 1, first=warmup)
        sixteen: Run = await fixed_window(
            regular,
            config.SEARCH_WINDOW_SECONDS,
            config.SEARCH_CONCURRENCY,
            first=warmup + latency,
        )
        hub_one = await fixed_count(
            hubs, self.scale.search_hub_requests, 1, first=len(self.queries) // 2
        )
        for connection in self.api:
            await connection.close()
        return {
            "concurrency_1": one.report(),
            "concurrency_16": sixteen.report(),
            "hubs_concurrency_1": hub_one.report(),
            "hits_per_page_mean": round(sum(hits) / len(hits), 1) if hits else None,
        }
