"""Measurement 2: the public API under a mix of invitation send / accept / decline at
concurrency 64, against a bare FastAPI + asyncpg endpoint that inserts one row, in
alternating rounds.

Each of the 64 callers sends an invitation for a pair of members that has never had one,
then plays the invitee: accepts (the pair is then connected) or declines. Either way the
pair leaves the pool, as a real client would not invite again someone who just declined
(the API refuses it for the invitee's cool-down, 409 `declined-recently`); pairs that
already had an invitation (the notifier measurement's) are left out from the start.
Every member's access token names an active sign-in, as signing in through the API
leaves it, so every call pays the sign-in check. Every call counts as one operation.
"""

import asyncio
import random
import time
import uuid
from collections import deque
from typing import Any

import asyncpg

from bench import config
from bench.config import API_PORT, REFERENCE_PORT, SEED
from bench.http import Connection
from bench.load import Run, alternate, fixed_window
from bench.members import HOW_WE_MET, TOKEN_MINUTES, Member
from bench.stats import summary
from bench.stores import open_sign_ins
from rapport_common.settings import get_settings
from services.api.auth.tokens import issue_access_token

# Between turns, so the side that just ran has closed its extra connections: the two
# apps' pools at their largest (20 a process, two workers each) and the notifier's come
# close to PostgreSQL's 100.
SETTLE_SECONDS = 3.0
NOTE = "Hello! We met at the product meetup last week; I would be glad to stay in touch."


class ApiBench:
    def __init__(self, members: list[Member]) -> None:
        self.members = members
        self.rng = random.Random(SEED)
        c = config.API_CONCURRENCY
        self.api = [Connection("127.0.0.1", API_PORT) for _ in range(c)]
        self.bare = [Connection("127.0.0.1", REFERENCE_PORT) for _ in range(c)]
        n = len(members)
        pairs = [(a, b) if self.rng.random() < 0.5 else (b, a) for a in range(n) for b in range(a)]
        self.rng.shuffle(pairs)
        self.pool = deque(pairs)
        self.bare_pairs = pairs  # the bare insert's rows: any pair will do
        self.headers = [member.headers for member in members]
        self.open: list[tuple[str, tuple[int, int]] | None] = [None] * c
        self.kinds: dict[str, list[float]] = {"send": [], "accept": [], "decline": []}

    async def mix(self, worker: int, n: int) -> bool:
        api, pending = self.api[worker], self.open[worker]
        started = time.perf_counter()
        if pending is None:
            if not self.pool:
                raise RuntimeError("the pool of pairs ran out: raise config.API_MEMBERS")
            inviter, invitee = pair = self.pool.popleft()
            response = await api.request(
                "POST",
                "/v1/invitations",
                {
                    "to_member_id": self.members[invitee].member_id,
                    "note": NOTE,
                    "how_we_met": self.rng.choice(HOW_WE_MET),
                },
                self.headers[inviter],
            )
            if response.status != 201:
                raise RuntimeError(f"send {response.status}: {response.body[:200]!r}")
            body = response.json()
            if body["status"] in ("pending", "awaiting_answer"):
                self.open[worker] = (body["invitation_id"], pair)
            kind = "send"
        else:
            self.open[worker] = None
            invitation_id, pair = pending
            headers = self.headers[pair[1]]
            path = f"/v1/invitations/{invitation_id}"
            if self.rng.random() < 0.5:
                kind = "accept"
                body = {"rating": self.rng.randint(1, 10)}
                response = await api.request("POST", f"{path}/accept", body, headers)
            else:
                kind = "decline"
                response = await api.request("POST", f"{path}/decline", None, headers)
            if response.status != 200:
                raise RuntimeError(f"{kind} {response.status}: {response.body[:200]!r}")
        self.kinds[kind].append(time.perf_counter() - started)
        return True

    async def insert(self, worker: int, n: int) -> bool:
        inviter, invitee = self.bare_pairs[n % len(self.bare_pairs)]
        response = await self.bare[worker].request(
            "POST",
            "/rows",
            {
                "inviter_id": self.members[inviter].member_id,
                "invitee_id": self.members[invitee].member_id,
                "note": NOTE,
            },
        )
        if response.status != 201:
            raise RuntimeError(f"insert {response.status}: {response.body[:200]!r}")
        return True

    async def prepare(self) -> dict[str, int]:
        """Not timed: the pairs that already had an invitation leave the pool, and each
        member signs in (a refresh token of a new family, written as signing in writes
        it, and an access token naming it: without argon2, whose cost is not a call's)."""
        settings = get_settings()
        ids = {member.member_id: n for n, member in enumerate(self.members)}
        connection = await asyncpg.connect(**settings.postgres.connect_arguments())
        try:
            rows = await connection.fetch("SELECT inviter_id, invitee_id FROM invitations")
        finally:
            await connection.close()
        taken = {
            frozenset((ids[str(row[0])], ids[str(row[1])]))
            for row in rows
            if str(row[0]) in ids and str(row[1]) in ids
        }
        self.pool = deque(pair for pair in self.pool if frozenset(pair) not in taken)
        families = [uuid.uuid4() for _ in self.members]
        members = [uuid.UUID(member.member_id) for member in self.members]
        await open_sign_ins(settings, list(zip(members, families, strict=True)))
        auth = settings.auth.model_copy(update={"access_token_minutes": TOKEN_MINUTES})
        for n, (member, family) in enumerate(zip(members, families, strict=True)):
            token, _ = issue_access_token(auth, member, family)
            self.headers[n] = {"Authorization": f"Bearer {token}"}
        return {"pairs": len(self.pool), "pairs_left_out": len(taken)}

    async def measure(self) -> dict[str, Any]:
        c = config.API_CONCURRENCY
        prepared = await self.prepare()
        await fixed_window(self.mix, config.API_WARMUP_SECONDS, c)
        await asyncio.sleep(SETTLE_SECONDS)
        await fixed_window(self.insert, config.API_WARMUP_SECONDS, c)
        await asyncio.sleep(SETTLE_SECONDS)
        for kind in self.kinds.values():
            kind.clear()
        window = config.API_WINDOW_SECONDS / config.ROUNDS

        async def api(_: int) -> Run:
            return await fixed_window(self.mix, window, c)

        async def bare(_: int) -> Run:
            return await fixed_window(self.insert, window, c)

        runs = await alternate({"api": api, "bare": bare}, config.ROUNDS, SETTLE_SECONDS)
        for connection in (*self.api, *self.bare):
            await connection.close()
        api_rate, bare_rate = runs["api"].rate, runs["bare"].rate
        for name, run in runs.items():
            if not run.latencies:
                raise RuntimeError(f"no {name} call succeeded: {run.error_examples}")
        return {
            "members": len(self.members),
            **prepared,
            "pairs_unused": len(self.pool),
            "concurrency": c,
            "api": {
                **runs["api"].report(),
                "by_kind": {name: summary(values) for name, values in self.kinds.items()},
            },
            "bare_insert": runs["bare"].report(),
            "api_to_bare": round(api_rate / bare_rate, 3) if bare_rate else None,
        }
