"""Batching for bulk loads: the next batch is read while Neo4j writes, and up to a
fixed number of batches are written at once."""

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

BATCH_SIZE = 5_000
# One writer per core of the machine the import was measured on (2 cores): Neo4j runs
# each transaction on one thread, so a second batch in flight keeps the other core busy.
WRITERS = 2

Row = list[Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Loaded:
    kind: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float(self.rows)

    def __str__(self) -> str:
        return f"{self.kind}: {self.rows:,} rows in {self.seconds:.1f} s ({self.rate:,.0f} rows/s)"


def batched(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


async def read_ahead(batches: Iterator[list[T]]) -> AsyncIterator[list[T]]:
    """Yield batch after batch, reading (parsing) the next one in a thread while the
    caller writes the current one: the two costs overlap instead of adding up."""
    upcoming = asyncio.create_task(asyncio.to_thread(next, batches, None))
    try:
        while batch := await upcoming:
            upcoming = asyncio.create_task(asyncio.to_thread(next, batches, None))
            yield batch
    finally:
        await asyncio.gather(upcoming, return_exceptions=True)


class InFlight:
    """At most ``limit`` writes running at once. Leaving the block waits for every
    running write (each is a whole transaction: it commits or it does not), then raises
    the first failure."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running: set[asyncio.Future[Any]] = set()

    async def __aenter__(self) -> "InFlight":
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        results = await asyncio.gather(*self.running, return_exceptions=True)
        self.running.clear()
        if exc_type is None:
            for result in results:
                if isinstance(result, BaseException):
                    raise result

    async def add(self, write: Awaitable[Any]) -> None:
        try:
            if len(self.running) >= self.limit:
                done, self.running = await asyncio.wait(
                    self.running, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    task.result()
        except BaseException:
            # An earlier write failed (or the load was cancelled): this one never starts,
            # and is closed so that it is not reported as "never awaited".
            if inspect.iscoroutine(write):
                write.close()
            raise
        self.running.add(asyncio.ensure_future(write))
