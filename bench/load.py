"""Load patterns: a fixed number of requests, a fixed time window (closed loop), a fixed
offered rate (open loop), and alternating rounds between two sides of a comparison.

An operation is ``async op(worker, n) -> bool``: ``worker`` picks the caller's own
connection, ``n`` numbers the calls; it returns whether the answer was right.
"""

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.stats import summary

Op = Callable[[int, int], Awaitable[bool]]


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)  # seconds, successful calls
    errors: int = 0
    seconds: float = 0.0
    error_examples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def add(self, other: "Run") -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds
        self.error_examples = (self.error_examples + other.error_examples)[:5]

    def report(self) -> dict[str, Any]:
        return {
            **summary(self.latencies),
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "per_second": round(self.rate, 1),
            "error_examples": self.error_examples,
        }


async def _call(op: Op, worker: int, n: int, run: Run) -> float | None:
    started = time.perf_counter()
    try:
        ok = await op(worker, n)
    except Exception as exc:  # every failure is counted; the run goes on
        ok = False
        if len(run.error_examples) < 5:
            run.error_examples.append(f"{type(exc).__name__}: {exc}"[:300])
    elapsed = time.perf_counter() - started
    if not ok:
        run.errors += 1
        return None
    return elapsed


async def fixed_count(op: Op, count: int, concurrency: int, first: int = 0) -> Run:
    """``count`` calls numbered from ``first``, by ``concurrency`` workers."""
    run = Run()
    numbers = iter(range(first, first + count))

    async def worker(w: int) -> None:
        for n in numbers:
            elapsed = await _call(op, w, n, run)
            if elapsed is not None:
                run.latencies.append(elapsed)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    run.seconds = time.perf_counter() - started
    return run


async def fixed_window(op: Op, seconds: float, concurrency: int, first: int = 0) -> Run:
    """Closed loop for ``seconds``: counts the calls that finish inside the window. The
    numbering continues from ``first`` (the caller learns the next one from the count)."""
    run = Run()
    numbers = itertools.count(first)
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(w: int) -> None:
        while time.perf_counter() < deadline:
            elapsed = await _call(op, w, next(numbers), run)
            if elapsed is not None and time.perf_counter() <= deadline:
                run.latencies.append(elapsed)

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    run.seconds = seconds
    return run


@dataclass(frozen=True)
class Offered:
    n: int
    started: float  # time.time(), so other processes' clocks compare
    seconds: float | None  # None: failed


async def open_loop(op: Op, count: int, rate: float, connections: int) -> list[Offered]:
    """Start call n at ``n / rate`` seconds, whether or not earlier calls have finished
    (up to ``connections`` in flight; more wait for a free connection, and their latency
    counts from the moment they were due)."""
    free: asyncio.Queue[int] = asyncio.Queue()
    for c in range(connections):
        free.put_nowait(c)
    results: list[Offered] = []
    run = Run()

    async def one(n: int, due: float) -> None:
        worker = await free.get()
        try:
            elapsed = await _call(op, worker, n, run)
        finally:
            free.put_nowait(worker)
        waited = time.time() - due - (elapsed or 0.0)
        results.append(Offered(n, due, None if elapsed is None else elapsed + max(0.0, waited)))

    origin_wall, origin = time.time(), time.perf_counter()
    tasks = []
    for n in range(count):
        delay = origin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, origin_wall + n / rate)))
    await asyncio.gather(*tasks)
    return results


async def alternate(
    sides: dict[str, Callable[[int], Awaitable[Run]]], rounds: int, settle: float = 0.0
) -> dict[str, Run]:
    """Run the sides one after the other, ``rounds`` times, so drifts in the machine's
    load hit both; each side's rounds are merged. The argument is the round number.
    ``settle`` seconds pass after each turn (idle connection pools shrink meanwhile)."""
    merged = {name: Run() for name in sides}
    for round_number in range(rounds):
        for name, side in sides.items():
            merged[name].add(await side(round_number))
            await asyncio.sleep(settle)
    return merged
