"""Members of the public API for measurements 2 and 3, registered through the API before
any clock starts. Registering hashes the password with argon2, deliberately slow (and,
as it runs on the API's event loop, one at a time), so only the first few members also
sign in through the API; the others' access tokens are issued with the API's own
function and secret, as its sign-in would."""

import asyncio
import random
import uuid
from dataclasses import dataclass

from bench.config import API_PORT, SEED
from bench.generate import AREAS, FIRST, LAST
from bench.http import Connection
from bench.load import fixed_count
from rapport_common.settings import AuthSettings
from services.api.auth.tokens import issue_access_token

PASSWORD = "bench-password-1"  # noqa: S105 (bench-only accounts on the bench stack)
SIGNED_IN_THROUGH_API = 10
TOKEN_MINUTES = 600
HOW_WE_MET = ("coffee", "meal", "beer", "event", "worked_together", "known_online", "never_met")


@dataclass(frozen=True)
class Member:
    member_id: str
    email: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Registered:
    members: list[Member]
    sign_in_retries: int  # sign-ins answered 401 right after a successful registration
    seconds: float


async def _sign_in(api: Connection, email: str, retried: list[int]) -> str:
    for attempt in range(5):
        response = await api.request(
            "POST", "/v1/auth/token", form={"username": email, "password": PASSWORD}
        )
        if response.status == 200:
            token: str = response.json()["access_token"]
            return token
        if response.status != 401:
            break
        # The API commits after it has answered (FastAPI runs a request-scoped
        # dependency's exit after the response), so a new account may not be visible
        # yet: bench/README.md, "Findings".
        retried.append(attempt)
        await asyncio.sleep(0.2)
    raise RuntimeError(f"sign in: {response.status} {response.body[:200]!r}")


async def register(count: int, auth: AuthSettings, concurrency: int = 2) -> Registered:
    rng = random.Random(SEED)
    auth = auth.model_copy(update={"access_token_minutes": TOKEN_MINUTES})
    connections = [Connection("127.0.0.1", API_PORT, timeout=120) for _ in range(concurrency)]
    members: dict[int, Member] = {}
    retried: list[int] = []

    async def one(worker: int, n: int) -> bool:
        api = connections[worker]
        email = f"member{n}@bench.rapport.example"
        registered = await api.request(
            "POST",
            "/v1/auth/register",
            {
                "email": email,
                "password": PASSWORD,
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "market_area": rng.choice(AREAS[:4]),
            },
        )
        if registered.status != 201:
            raise RuntimeError(f"register: {registered.status} {registered.body[:200]!r}")
        member_id = registered.json()["member_id"]
        if n < SIGNED_IN_THROUGH_API:
            token = await _sign_in(api, email, retried)
        else:
            token, _ = issue_access_token(auth, uuid.UUID(member_id))
        members[n] = Member(member_id, email, {"Authorization": f"Bearer {token}"})
        return True

    run = await fixed_count(one, count, concurrency)
    for connection in connections:
        await connection.close()
    if run.errors:
        raise RuntimeError(f"{run.errors} members could not be registered: {run.error_examples}")
    return Registered([members[n] for n in sorted(members)], len(retried), run.seconds)
