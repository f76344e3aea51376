"""The API contract as front-end tools test it: schemathesis, every check on, against a
real API process on the test stack, signed in as a member who has data.

The member (Ada) has a connection, an invitation waiting for her, one she sent, an
introduction she asked for, a webhook endpoint and a notification, so reads find
something and the spec's links (send -> read -> accept, create endpoint -> deliveries)
chain real resources in the stateful phase. Examples are bounded per operation so the
run stays near a minute or two; it must report no failure.

Left out: ending sessions (`DELETE /v1/auth/sessions`, and `.../{session_id}` with the
id schemathesis reads from the sessions list), which would sign the fuzzer itself out for
the rest of the run; the session tests cover them.
"""

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport_common.settings import Settings
from tests.conftest import eventually
from tests.factories import PASSWORD, SignedIn

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
MAX_EXAMPLES = 4
LEFT_OUT = ["endSessions", "endSession"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _serving(module: str, port: int, env: dict[str, str]) -> Iterator[str]:
    command = [sys.executable, "-m", "uvicorn", module, "--factory", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
        [*command, "--host", "127.0.0.1", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


async def _answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(url + "/livez")).status_code == 200
    except httpx.TransportError:
        return False


async def _member(client: httpx.AsyncClient, engine: AsyncEngine, name: str) -> SignedIn:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "name": name}
    registered = await client.post("/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    member_id = uuid.UUID(registered.json()["member_id"])
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE members SET email_verified_at = now() WHERE id = :id"), {"id": member_id}
        )
    token = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return SignedIn(member_id, email, {"Authorization": f"Bearer {token.json()['access_token']}"})


async def _invite(client: httpx.AsyncClient, inviter: SignedIn, invitee: SignedIn) -> str:
    body = {"to_member_id": str(invitee.member_id), "note": "Hello!", "how_we_met": "coffee"}
    sent = await client.post("/v1/invitations", json=body, headers=inviter.headers)
    assert sent.status_code == 201, sent.text
    return str(sent.json()["invitation_id"])


async def _connect(client: httpx.AsyncClient, a: SignedIn, b: SignedIn) -> None:
    invitation = await _invite(client, a, b)
    accepted = await client.post(
        f"/v1/invitations/{invitation}/accept", json={"rating": 8}, headers=b.headers
    )
    assert accepted.status_code == 200, accepted.text


async def _seed(client: httpx.AsyncClient, engine: AsyncEngine) -> SignedIn:
    """Ada, with something behind every list she reads."""
    names = ("Ada", "Bob", "Cy", "Dee", "Eve")
    ada, bob, cy, dee, eve = [await _member(client, engine, name) for name in names]
    await _connect(client, ada, bob)
    await _connect(client, bob, cy)
    await _invite(client, dee, ada)
    await _invite(client, ada, eve)
    asked = await client.post(
        "/v1/introductions",
        json={"intermediary_id": str(bob.member_id), "target_id": str(cy.member_id), "note": "Hi"},
        headers=ada.headers,
    )
    assert asked.status_code == 201, asked.text
    endpoint = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["connection.created"]},
        headers=ada.headers,
    )
    assert endpoint.status_code == 201, endpoint.text
    return ada


# Everything the run commits (its members, and the failed sign-ins the fuzzer causes,
# which would throttle later tests' sign-ins from this address) is emptied afterwards.
@pytest.mark.usefixtures("committed_db")
async def test_the_api_keeps_its_contract_under_every_schemathesis_check(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    graph_port, api_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "RAPPORT_POSTGRES__DATABASE": settings.postgres.database,
        "RAPPORT_GRAPH__URL": f"http://127.0.0.1:{graph_port}",
        "RAPPORT_LOG_LEVEL": "WARNING",
    }
    with (
        _serving("services.graph.main:build", graph_port, env) as graph_url,
        _serving("services.api.main:build", api_port, env) as api_url,
    ):
        await eventually(lambda: _answers(graph_url), within=30)
        await eventually(lambda: _answers(api_url), within=30)
        async with httpx.AsyncClient(base_url=api_url) as client:
            ada = await _seed(client, engine)
        command = [
            str(SCHEMATHESIS),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{api_url}/openapi.json",
            "--checks",
            "all",
            # Every phase. One worker: CPython 3.11's ast module counts its recursion
            # depth in state shared by all threads, so two workers generating code at
            # once could crash the tool ("SystemError: AST constructor recursion depth
            # mismatch", python/cpython#106905), a crash of the tool, not a finding.
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--mode",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "16",
            "--workers",
            "1",
            "--header",
            f"Authorization:{ada.headers['Authorization']}",
            "--suppress-health-check",
            "all",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
            *(arg for name in LEFT_OUT for arg in ("--exclude-operation-id", name)),
        ]
        run = await asyncio.to_thread(
            subprocess.run,
            command,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=540,
            check=False,
        )
    report = run.stdout[-20000:] + run.stderr[-5000:]
    assert run.returncode == 0, report
    assert "No issues found" in run.stdout or " passed" in run.stdout, report
