"""Measurement 3: decline notes from the API call to the SMTP server's acceptance.

Preparation (not measured, notifier stopped): one open invitation per decline, written
into PostgreSQL; the outbox events left by earlier steps are set aside. Then the real notifier
worker starts, pointed at the capturing SMTP server, and the declines are offered at a
fixed rate (open loop): issue 14's target share (``OFFERED_SHARE_OF_BARE``) of the bare
insert, measured just before in this step (the reference app at concurrency 64, as in
measurement 2), so the offered rate and the target follow the machine as the ratio does.
The capture records when each note was accepted, by notification id; the notifications
table maps it to its invitation, whose decline call time the harness kept.

Offered at exactly the target's rate, the notifier's sustained rate cannot exceed it, so
its capacity is measured after: ``DRAIN_DECLINES`` more declines made with the notifier
stopped (their events wait in the outbox), then the notifier started again, and the
notes of that backlog counted per second from its first note to its last.
"""

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import config
from bench.config import API_PORT, SEED
from bench.http import Connection
from bench.load import Offered, fixed_count, fixed_window, open_loop
from bench.m_api import NOTE, ApiBench
from bench.members import Member
from bench.stats import summary
from bench.stores import decline_notes, open_invitations, set_aside_outbox
from rapport_common.settings import Settings
from services.api.policies.evaluation import InvitationFacts, evaluate
from services.api.policies.presets import DEFAULT_PRESET, PRESETS

# Issue 14: sustained notes/s >= 0.065x the bare insert, with declines offered at that rate.
OFFERED_SHARE_OF_BARE = 0.065
BARE_WARMUP_SECONDS = 3.0
BARE_WINDOW_SECONDS = 10.0

Step = Callable[[], Awaitable[None]]


def read_capture(path: Path) -> dict[str, float]:
    accepted: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            notification, _, at = line.partition(" ")
            accepted.setdefault(notification, float(at))
    return accepted


class NotifierBench:
    def __init__(self, settings: Settings, members: list[Member], capture: Path) -> None:
        self.settings, self.members, self.capture = settings, members, capture
        self.api = [Connection("127.0.0.1", API_PORT) for _ in range(64)]
        self.invitations: list[tuple[str, int]] = []  # (invitation id, invitee)
        self.bare: dict[str, Any] = {}
        self.rate = 0.0

    async def prepare(self) -> dict[str, Any]:
        """One open invitation per decline, on distinct pairs, written straight into
        PostgreSQL: sending 10,000 through the API takes minutes on a 2-core machine and
        is measurement 2's business. The rows are what the API stores for a sent
        invitation, with the suggestion the invitee's (default) policy makes."""
        rng = random.Random(SEED + 3)
        n = len(self.members)
        pairs = [(a, b) if rng.random() < 0.5 else (b, a) for a in range(n) for b in range(a)]
        pairs = rng.sample(pairs, config.DECLINES + config.DRAIN_DECLINES)
        started = time.perf_counter()
        rows = [
            (
                uuid.uuid4(),
                uuid.UUID(self.members[inviter].member_id),
                uuid.UUID(self.members[invitee].member_id),
            )
            for inviter, invitee in pairs
        ]
        facts = InvitationFacts("never_met", False, False, None, "none", False)
        suggestion = evaluate(PRESETS[DEFAULT_PRESET].policy, facts).model_dump_json()
        await open_invitations(self.settings, rows, NOTE, suggestion)
        self.invitations = [(str(row[0]), pair[1]) for row, pair in zip(rows, pairs, strict=True)]
        return {
            "open_invitations_written": len(rows),
            "seconds": round(time.perf_counter() - started, 1),
            "outbox_events_set_aside": await set_aside_outbox(self.settings),
        }

    async def decline(self, worker: int, n: int) -> bool:
        invitation_id, invitee = self.invitations[n]
        response = await self.api[worker].request(
            "POST",
            f"/v1/invitations/{invitation_id}/decline",
            None,
            self.members[invitee].headers,
        )
        if response.status != 200:
            raise RuntimeError(f"decline {response.status}: {response.body[:200]!r}")
        return True

    async def bare_insert(self, start_reference: Step, stop_reference: Step) -> float:
        """The bare insert's rate now (measurement 2's reference app and callers, a short
        window), and from it the rate the declines are offered at."""
        await start_reference()
        bench = ApiBench(self.members)
        try:
            c = config.API_CONCURRENCY
            await fixed_window(bench.insert, BARE_WARMUP_SECONDS, c)
            run = await fixed_window(bench.insert, BARE_WINDOW_SECONDS, c)
        finally:
            for connection in bench.bare:
                await connection.close()
            await stop_reference()
        if not run.latencies:
            raise RuntimeError(f"no bare insert succeeded: {run.error_examples}")
        self.bare = run.report()
        self.rate = round(OFFERED_SHARE_OF_BARE * run.rate, 1)
        return self.rate

    async def measure(self, start_notifier: Step) -> dict[str, Any]:
        if not self.rate:
            raise RuntimeError("the bare insert is measured first (bare_insert)")
        await start_notifier()
        offered = await open_loop(self.decline, config.DECLINES, self.rate, len(self.api))
        last_call = time.time()
        wanted = {invitation for invitation, _ in self.invitations[: config.DECLINES]}
        delivered = await self._wait_for_notes(wanted, last_call + config.NOTE_DEADLINE_SECONDS)
        return self._report(offered, delivered, last_call)

    async def drain(self, start_notifier: Step, stop_notifier: Step) -> dict[str, Any]:
        """The notifier's capacity (after ``measure``): the backlog's notes per second."""
        await stop_notifier()
        backlog = self.invitations[config.DECLINES :]
        calls = await fixed_count(self.decline, len(backlog), len(self.api), first=config.DECLINES)
        for connection in self.api:
            await connection.close()
        await start_notifier()
        wanted = {invitation for invitation, _ in backlog}
        delivered = await self._wait_for_notes(wanted, time.time() + config.DRAIN_DEADLINE_SECONDS)
        accepted = sorted(delivered.values())
        span = accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0
        rate = round((len(accepted) - 1) / span, 1) if span > 0 else None
        bare = self.bare["per_second"]
        return {
            "declines": len(backlog),
            "decline_call_errors": calls.errors,
            "notes_delivered": len(delivered),
            "first_to_last_note_seconds": round(span, 1),
            "notes_per_second": rate,
            "to_bare": round(rate / bare, 4) if rate and bare else None,
        }

    async def _wait_for_notes(self, wanted: set[str], deadline: float) -> dict[str, float]:
        """Notes accepted by the SMTP server for the ``wanted`` invitations, per
        invitation id, once all arrived or the deadline passed."""
        while True:
            notes = await decline_notes(self.settings)
            accepted = read_capture(self.capture)
            delivered = {
                invitation: accepted[notification]
                for notification, invitation in notes.items()
                if notification in accepted and invitation in wanted
            }
            if len(delivered) >= len(wanted) or time.time() > deadline:
                return delivered
            await asyncio.sleep(1.0)

    def _report(
        self, offered: list[Offered], delivered: dict[str, float], last_call: float
    ) -> dict[str, Any]:
        """A note that never arrived counts at the deadline, so with any missing the
        end-to-end percentiles are lower bounds."""
        by_n = {o.n: o for o in offered}
        cutoff = last_call + config.NOTE_DEADLINE_SECONDS
        end_to_end, after_answer, missing = [], [], 0
        for n, (invitation_id, _) in enumerate(self.invitations[: config.DECLINES]):
            call = by_n[n]
            accepted = delivered.get(invitation_id)
            if accepted is None:
                missing += 1
                end_to_end.append(cutoff - call.started)
                continue
            end_to_end.append(accepted - call.started)
            if call.seconds is not None:
                after_answer.append(accepted - call.started - call.seconds)
        first_call = min(o.started for o in offered)
        last_note = max(delivered.values(), default=first_call)
        span = last_note - first_call
        sustained = round(len(delivered) / span, 1) if span > 0 else None
        bare = self.bare["per_second"]
        return {
            "bare_insert": self.bare,
            "offered_share_of_bare": OFFERED_SHARE_OF_BARE,
            "declines_offered": len(offered),
            "offered_per_second": self.rate,
            "offering_took_seconds": round(last_call - first_call, 1),
            "decline_calls": summary([o.seconds for o in offered if o.seconds is not None]),
            "decline_call_errors": sum(o.seconds is None for o in offered),
            "notes_delivered": len(delivered),
            "notes_missing": missing,
            "deadline_after_last_call_seconds": config.NOTE_DEADLINE_SECONDS,
            "end_to_end": summary(end_to_end) | {"lower_bound": missing > 0},
            "api_answer_to_smtp": summary(after_answer),
            "sustained_notes_per_second": sustained,
            "sustained_to_bare": round(sustained / bare, 4) if sustained and bare else None,
            "last_note_after_last_call_seconds": round(last_note - last_call, 1),
        }
