"""Measurement 1: introduction paths through the graph service's ``/internal/v1/paths``,
against the two reference queries on the same Neo4j, on the same sampled pairs, in
alternating rounds; and the service's answers checked against brute force. The same
pairs also through the public API's ``/v1/members/{target}/paths``, asked by the source,
signed in (the extra hop: sign-in check, privacy recheck in PostgreSQL, names)."""

import asyncio
import random
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from neo4j import AsyncDriver

from bench import config, paths_reference, stores
from bench.bruteforce import Expected, Strengths, compare, expected_paths, identical
from bench.config import API_PORT, AT, GRAPH_PORT, SEED, Scale
from bench.http import Connection
from bench.load import Run, alternate, fixed_count, fixed_window
from bench.m_search import _members as search_member_rows
from bench.network import Network, Pair, sample_pairs
from bench.stats import summary
from rapport_common.settings import Settings, StrengthSettings, get_settings
from services.api.auth.tokens import issue_access_token
from services.graph.paths.service import NEIGHBOUR_CAP

AT_PARAMETER = AT.strftime("%Y-%m-%dT%H:%M:%SZ")
LIMIT = 5
PUBLIC_WARMUP = 300  # calls of the public endpoint at concurrency 1, never measured
TOKEN_MINUTES = 600


class PathsBench:
    def __init__(self, scale: Scale, network: Network, driver: AsyncDriver) -> None:
        self.scale, self.network, self.driver = scale, network, driver
        self.pairs = sample_pairs(network, random.Random(config.SEED), scale.path_pairs)
        self.warmup_pairs = sample_pairs(
            network, random.Random(config.SEED + 1), config.PATH_WARMUP_PAIRS
        )
        self.warming_up = False
        self.connections = [
            Connection("127.0.0.1", GRAPH_PORT) for _ in range(config.PATH_CONCURRENCY)
        ]
        self.answers: dict[tuple[str, str], dict[str, Any]] = {}
        self.headers = get_settings().graph.auth_headers()
        # Each source's Authorization header for the public endpoint (``sign_in``).
        self.signed_in: dict[str, dict[str, str]] = {}
        self.api = Connection("127.0.0.1", API_PORT)

    async def sign_in(self, settings: Settings, data: Path) -> None:
        """The network's members into PostgreSQL (as the search measurement writes them)
        and a sign-in for every source of a pair, with an access token naming it, as
        signing in through the API leaves them (without argon2: a sign-in's cost is not
        a path's). Before the API starts; not timed."""
        rows, _ = search_member_rows(data, random.Random(SEED + 6))  # the search's seed
        await stores.load_members(settings, rows)
        sources = {pair.source for pair in (*self.pairs, *self.warmup_pairs)}
        families = {source: uuid.uuid4() for source in sorted(sources)}
        await stores.open_sign_ins(settings, [(uuid.UUID(m), f) for m, f in families.items()])
        auth = settings.auth.model_copy(update={"access_token_minutes": TOKEN_MINUTES})
        for member, family in families.items():
            token, _ = issue_access_token(auth, uuid.UUID(member), family)
            self.signed_in[member] = {"Authorization": f"Bearer {token}"}

    def pair(self, n: int) -> Pair:
        pairs = self.warmup_pairs if self.warming_up else self.pairs
        return pairs[n % len(pairs)]

    async def endpoint(self, worker: int, n: int) -> bool:
        pair = self.pair(n)
        query = urlencode(
            {"source": pair.source, "target": pair.target, "limit": LIMIT, "at": AT_PARAMETER}
        )
        response = await self.connections[worker].request(
            "GET", f"/internal/v1/paths?{query}", headers=self.headers
        )
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {response.body[:200]!r}")
        if not self.warming_up:
            self.answers[(pair.source, pair.target)] = response.json()
        return True

    async def public(self, _: int, n: int) -> bool:
        """The source asks the public API for its paths to the target (concurrency 1)."""
        pair = self.pair(n)
        response = await self.api.request(
            "GET",
            f"/v1/members/{pair.target}/paths?limit={LIMIT}",
            headers=self.signed_in[pair.source],
        )
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {response.body[:200]!r}")
        return True

    async def shortest(self, worker: int, n: int) -> bool:
        pair = self.pair(n)
        timed = await paths_reference.run(
            self.driver,
            paths_reference.SHORTEST,
            pair.source,
            pair.target,
            config.REFERENCE_TIMEOUT_SECONDS,
        )
        if timed.timed_out:
            raise TimeoutError("shortestPath timed out")
        return bool(timed.rows) and timed.rows[0]["hops"] == pair.distance

    async def straightforward(self, pairs: list[Pair]) -> tuple[list[float], int]:
        seconds, timeouts = [], 0
        for pair in pairs:
            timed = await paths_reference.run(
                self.driver,
                paths_reference.STRAIGHTFORWARD,
                pair.source,
                pair.target,
                config.REFERENCE_TIMEOUT_SECONDS,
            )
            seconds.append(timed.seconds)
            timeouts += timed.timed_out
        return seconds, timeouts

    async def latency(self) -> dict[str, Any]:
        """Concurrency 1: per round, the service on a block of pairs, then shortestPath on
        the same block, then the straightforward query on the block's first pairs, then
        the public endpoint on the block (when the members are signed in)."""
        per_round = config.PATH_LATENCY_REQUESTS // config.ROUNDS
        naive_per_round = self.scale.straightforward_samples // config.ROUNDS
        base = config.PATH_WARMUP
        service, shortest, public = Run(), Run(), Run()
        naive: list[float] = []
        timeouts = 0
        for r in range(config.ROUNDS):
            first = base + r * per_round
            service.add(await fixed_count(self.endpoint, per_round, 1, first))
            shortest.add(await fixed_count(self.shortest, per_round, 1, first))
            block = [self.pair(first + i) for i in range(naive_per_round)]
            seconds, timed_out = await self.straightforward(block)
            naive += seconds
            timeouts += timed_out
            if self.signed_in:
                public.add(await fixed_count(self.public, per_round, 1, first))
        served = service.report()
        answered = public.report() if self.signed_in else None
        return {
            "service": served,
            "public_api": answered,
            "public_api_p99_to_service_p99": (
                round(answered["p99_ms"] / served["p99_ms"], 2) if answered else None
            ),
            "shortest_path": shortest.report(),
            "straightforward": {
                **summary(naive),
                "timeouts": timeouts,
                "timeout_seconds": config.REFERENCE_TIMEOUT_SECONDS,
            },
        }

    async def throughput(self) -> dict[str, Any]:
        window = config.PATH_WINDOW_SECONDS / config.ROUNDS
        c = config.PATH_CONCURRENCY
        start = {"service": 10_000, "shortest": 10_000}

        def side(name: str, op: Any) -> Any:
            async def run(_: int) -> Run:
                result = await fixed_window(op, window, c, start[name])
                start[name] += len(result.latencies) + result.errors + c
                return result

            return run

        runs = await alternate(
            {
                "service": side("service", self.endpoint),
                "shortest": side("shortest", self.shortest),
            },
            config.ROUNDS,
        )
        return {"service": runs["service"].report(), "shortest_path": runs["shortest"].report()}

    async def check(self) -> dict[str, Any]:
        """The service's answers against brute force on pairs of both distances. A
        difference is put down to the service's documented neighbour cap when an endpoint
        has more than ``NEIGHBOUR_CAP`` connections (its weakest are not searched)."""
        strengths = Strengths(self.network, StrengthSettings(), AT)
        chosen = [p for p in self.pairs if p.distance == 2][: self.scale.checked_pairs // 2]
        chosen += [p for p in self.pairs if p.distance == 3][: self.scale.checked_pairs // 2]
        result: dict[str, Any] = {"pairs": len(chosen), "equal": 0, "identical": 0}
        result |= {"endpoint_over_neighbour_cap": 0, "neighbour_cap": NEIGHBOUR_CAP}
        mismatches = []
        for pair in chosen:
            key = (pair.source, pair.target)
            if key not in self.answers:
                await self.endpoint(0, self.pairs.index(pair))
            answer = self.answers[key]
            expected = await asyncio.to_thread(
                expected_paths, self.network, strengths, pair.source, pair.target, LIMIT
            )
            difference = compare(expected, answer)
            if difference is None:
                result["equal"] += 1
                result["identical"] += identical(expected, answer)
                continue
            mismatch = self.explain(pair, expected, answer, difference)
            result["endpoint_over_neighbour_cap"] += mismatch["endpoint_over_neighbour_cap"]
            mismatches.append(mismatch)
        result["mismatches"] = mismatches
        return result

    def explain(
        self, pair: Pair, expected: Expected, answer: dict[str, Any], difference: str
    ) -> dict[str, Any]:
        net = self.network
        given = {tuple(p["intermediaries"]) for p in answer["paths"]}
        missing = [(ids, score) for ids, score in expected.paths if ids not in given]
        degrees = [[net.degree(net.index[m]) for m in ids] for ids, _ in missing]
        endpoints = [net.degree(net.index[m]) for m in (pair.source, pair.target)]
        left_out = [
            {"intermediaries": list(ids), "score": round(score, 6), "degrees": d}
            for (ids, score), d in zip(missing, degrees, strict=True)
        ]
        return {
            "source": pair.source,
            "target": pair.target,
            "distance": pair.distance,
            "difference": difference,
            "left_out": left_out,
            "endpoint_degrees": endpoints,
            "endpoint_over_neighbour_cap": max(endpoints) > NEIGHBOUR_CAP,
        }

    async def measure(self) -> dict[str, Any]:
        self.warming_up = True
        await fixed_count(self.endpoint, config.PATH_WARMUP, config.PATH_CONCURRENCY)
        await fixed_count(self.shortest, config.PATH_WARMUP, config.PATH_CONCURRENCY)
        await self.straightforward(self.warmup_pairs[:2])
        if self.signed_in:
            await fixed_count(self.public, PUBLIC_WARMUP, 1)
        self.warming_up = False
        result = {
            "pairs": {"distance_2": self.scale.path_pairs, "distance_3": self.scale.path_pairs},
            "concurrency_1": await self.latency(),
            f"concurrency_{config.PATH_CONCURRENCY}": await self.throughput(),
            "checked_against_brute_force": await self.check(),
        }
        for connection in (*self.connections, self.api):
            await connection.close()
        return result
