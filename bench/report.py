"""The targets, checked against a run's results, as a printed table or Markdown; and the
scale curve over several runs.

python -m bench.report bench/results/100k.json [--markdown]
python -m bench.report --curve bench/results/10k.json bench/results/100k.json bench/results/1m.json
"""

import argparse
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Results = dict[str, Any]


@dataclass(frozen=True)
class Line:
    measurement: str
    figure: str
    get: Callable[[Results], float | None]
    unit: str
    target: str = ""
    met: Callable[[float], bool] | None = None
    at_least: Callable[[Results], bool] = lambda _: False  # the value is a lower bound


def _dig(results: Results, *keys: str) -> Any:
    value: Any = results
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _ratio(results: Results) -> float | None:
    naive = _dig(results, "paths", "concurrency_1", "straightforward", "p99_ms")
    ours = _dig(results, "paths", "concurrency_1", "service", "p99_ms")
    return naive / ours if naive and ours else None


def _checked(results: Results) -> float | None:
    check = _dig(results, "paths", "checked_against_brute_force")
    return check["equal"] / check["pairs"] if check and check["pairs"] else None


def _capped(results: Results) -> float | None:
    check = _dig(results, "paths", "checked_against_brute_force")
    return check.get("endpoint_over_neighbour_cap") if check else None


def _over(
    numerator: tuple[str, ...], denominator: tuple[str, ...]
) -> Callable[[Results], float | None]:
    """A figure over the baseline measured in the same run (issue 14's targets are ratios,
    because absolute figures differ 2-3x between machines of the same kind)."""

    def get(results: Results) -> float | None:
        top, bottom = _dig(results, *numerator), _dig(results, *denominator)
        return top / bottom if top is not None and bottom else None

    return get


def _notes_missing(results: Results) -> bool:
    return bool(_dig(results, "notifier", "end_to_end", "lower_bound"))


def _notes_to_bare(results: Results) -> float | None:
    """Over the notifier step's own bare insert; runs before it had one used measurement
    2's."""
    bare = _dig(results, "notifier", "bare_insert", "per_second")
    if bare is None:
        bare = _dig(results, "api", "bare_insert", "per_second")
    # The capacity (a backlog drained); runs before it had one, the rate sustained.
    notes = _dig(results, "notifier", "capacity", "notes_per_second")
    if notes is None:
        notes = _dig(results, "notifier", "sustained_notes_per_second")
    return notes / bare if notes is not None and bare else None


def _peak(name: str) -> Callable[[Results], float | None]:
    return lambda r: _dig(r, "memory_peak_rss_mb", name, "sum")


P1, P16 = ("paths", "concurrency_1"), ("paths", "concurrency_16")
S1, S16 = ("search", "concurrency_1"), ("search", "concurrency_16")
LINES = [
    Line("1 paths", "service p50, c=1", lambda r: _dig(r, *P1, "service", "p50_ms"), "ms",
         "<= 15", lambda v: v <= 15),
    Line("1 paths", "service p95, c=1", lambda r: _dig(r, *P1, "service", "p95_ms"), "ms"),
    Line("1 paths", "service p99, c=1", lambda r: _dig(r, *P1, "service", "p99_ms"), "ms",
         "<= 60", lambda v: v <= 60),
    Line("1 paths", "service p50, c=16", lambda r: _dig(r, *P16, "service", "p50_ms"),
         "ms"),
    Line("1 paths", "service p99, c=16", lambda r: _dig(r, *P16, "service", "p99_ms"), "ms"),
    Line("1 paths", "service throughput, c=16", lambda r: _dig(r, *P16, "service", "per_second"),
         "/s", ">= 150", lambda v: v >= 150),
    Line("1 paths", "shortestPath p50, c=1",
         lambda r: _dig(r, *P1, "shortest_path", "p50_ms"), "ms"),
    Line("1 paths", "shortestPath p99, c=1",
         lambda r: _dig(r, *P1, "shortest_path", "p99_ms"), "ms"),
    Line("1 paths", "shortestPath throughput, c=16",
         lambda r: _dig(r, *P16, "shortest_path", "per_second"), "/s"),
    Line("1 paths", "public API p50, c=1", lambda r: _dig(r, *P1, "public_api", "p50_ms"), "ms"),
    Line("1 paths", "public API p99, c=1", lambda r: _dig(r, *P1, "public_api", "p99_ms"), "ms"),
    Line("1 paths", "public API p99 / service p99, c=1",
         _over((*P1, "public_api", "p99_ms"), (*P1, "service", "p99_ms")), "x", "<= 2",
         lambda v: v <= 2),
    Line("1 paths", "service / shortestPath p50, c=1",
         _over((*P1, "service", "p50_ms"), (*P1, "shortest_path", "p50_ms")), "x", "<= 3",
         lambda v: v <= 3),
    Line("1 paths", "service / shortestPath p99, c=1",
         _over((*P1, "service", "p99_ms"), (*P1, "shortest_path", "p99_ms")), "x", "<= 4",
         lambda v: v <= 4),
    Line("1 paths", "service / shortestPath throughput, c=16",
         _over((*P16, "service", "per_second"), (*P16, "shortest_path", "per_second")), "x",
         ">= 0.3", lambda v: v >= 0.3),
    Line("1 paths", "straightforward p50, c=1",
         lambda r: _dig(r, *P1, "straightforward", "p50_ms"), "ms"),
    Line("1 paths", "straightforward p99, c=1",
         lambda r: _dig(r, *P1, "straightforward", "p99_ms"), "ms"),
    Line("1 paths", "straightforward timeouts",
         lambda r: _dig(r, *P1, "straightforward", "timeouts"), ""),
    Line("1 paths", "straightforward p99 / service p99", _ratio, "x", ">= 10",
         lambda v: v >= 10),
    Line("1 paths", "answers equal to brute force", _checked, "share", "= 1",
         lambda v: v >= 1),
    Line("1 paths", "differences with an endpoint over the neighbour cap", _capped, ""),
    Line("2 api", "send/accept/decline, c=64", lambda r: _dig(r, "api", "api", "per_second"),
         "ops/s", ">= 800", lambda v: v >= 800),
    Line("2 api", "mix p99, c=64", lambda r: _dig(r, "api", "api", "p99_ms"), "ms"),
    Line("2 api", "bare insert, c=64", lambda r: _dig(r, "api", "bare_insert", "per_second"),
         "ops/s"),
    Line("2 api", "api / bare", lambda r: _dig(r, "api", "api_to_bare"), "x", ">= 0.25",
         lambda v: v >= 0.25),
    Line("3 notifier", "decline -> SMTP p50", lambda r: _dig(r, "notifier", "end_to_end",
         "p50_ms"), "ms", at_least=_notes_missing),
    Line("3 notifier", "decline -> SMTP p99", lambda r: _dig(r, "notifier", "end_to_end",
         "p99_ms"), "ms", "<= 1500", lambda v: v <= 1500, _notes_missing),
    Line("3 notifier", "notes delivered of 10,000",
         lambda r: _dig(r, "notifier", "notes_delivered"), "", "= 10000", lambda v: v >= 10000),
    Line("3 notifier", "declines offered (0.065x its bare insert)",
         lambda r: _dig(r, "notifier", "offered_per_second"), "/s"),
    Line("3 notifier", "sustained rate, at the rate offered",
         lambda r: _dig(r, "notifier", "sustained_notes_per_second"), "/s"),
    Line("3 notifier", "capacity (a backlog of 5,000 drained)",
         lambda r: _dig(r, "notifier", "capacity", "notes_per_second"), "/s"),
    Line("3 notifier", "capacity / bare insert", _notes_to_bare, "x", ">= 0.065",
         lambda v: v >= 0.065),
    Line("4 import", "connections into Neo4j",
         lambda r: _dig(r, "import", "connections_per_second"), "/s", ">= 50000",
         lambda v: v >= 50_000),
    Line("4 import", "offline (neo4j-admin), stop to schema",
         lambda r: _dig(r, "import", "offline", "connections_per_second"), "/s"),
    Line("4 import", "offline, neo4j-admin alone",
         lambda r: _dig(r, "import", "offline", "admin_connections_per_second"), "/s"),
    Line("4 import", "offline graph = online graph",
         lambda r: _dig(r, "import", "offline_same_as_online"), ""),
    Line("5 memory", "api peak RSS (all its processes)", _peak("api"), "MiB"),
    Line("5 memory", "graph peak RSS (all its processes)", _peak("graph"), "MiB"),
    Line("5 memory", "notifier peak RSS (all its processes)", _peak("notifier"), "MiB"),
    Line("5 memory", "neo4j peak RSS", _peak("neo4j"), "MiB"),
    Line("6 search", "p50, c=1", lambda r: _dig(r, *S1, "p50_ms"), "ms"),
    Line("6 search", "p99, c=1", lambda r: _dig(r, *S1, "p99_ms"), "ms", "<= 100",
         lambda v: v <= 100),
    Line("6 search", "p50, c=16", lambda r: _dig(r, *S16, "p50_ms"), "ms"),
    Line("6 search", "p99, c=16", lambda r: _dig(r, *S16, "p99_ms"), "ms", "<= 400",
         lambda v: v <= 400),
    Line("6 search", "throughput, c=16", lambda r: _dig(r, *S16, "per_second"), "/s"),
    Line("6 search", "hub searchers p99, c=1",
         lambda r: _dig(r, "search", "hubs_concurrency_1", "p99_ms"), "ms"),
]  # fmt: skip


def _format(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{int(value):,}"


def rows(results: Results) -> list[tuple[str, str, str, str, str]]:
    out = []
    for line in LINES:
        value = line.get(results)
        verdict = ""
        if line.met is not None:
            verdict = "-" if value is None else "met" if line.met(value) else "MISSED"
        figure = f"{'>= ' if line.at_least(results) else ''}{_format(value)} {line.unit}".strip()
        out.append((line.measurement, line.figure, figure, line.target, verdict))
    return out


def table(results: Results) -> str:
    header = ("measurement", "figure", "value", "target", "")
    body = rows(results)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in body]
    rule = "  ".join("-" * w for w in widths)
    title = "  ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=True))
    return "\n".join([title, rule, *lines])


def markdown(results: Results) -> str:
    lines = ["| measurement | figure | value | target | |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows(results)]
    return "\n".join(lines)


# The scale curve (issue 14): latency at concurrency 1 by network size, and how the p99
# grows from 100k to 1m (target: at most twice).
CURVE = (
    ("paths p50", (*P1, "service", "p50_ms")),
    ("paths p99", (*P1, "service", "p99_ms")),
    ("search p50", (*S1, "p50_ms")),
    ("search p99", (*S1, "p99_ms")),
)


def curve(runs: list[Results]) -> str:
    """A Markdown table: one row per run (in the order given), then p99(1m) / p99(100k)."""
    lines = [
        "| scale | members | connections | " + " | ".join(f"{n} (ms)" for n, _ in CURVE) + " |",
        "|---" * (3 + len(CURVE)) + "|",
    ]
    by_scale = {}
    for run in runs:
        by_scale[run["scale"]] = run
        sizes = run.get("sizes", {})
        cells = [run["scale"], _format(sizes.get("members")), _format(sizes.get("connections"))]
        cells += [_format(_dig(run, *keys)) for _, keys in CURVE]
        lines.append(f"| {' | '.join(cells)} |")
    if "100k" in by_scale and "1m" in by_scale:
        for name, keys in CURVE[1::2]:
            big, small = _dig(by_scale["1m"], *keys), _dig(by_scale["100k"], *keys)
            ratio = big / small if big and small else None
            verdict = "-" if ratio is None else "met" if ratio <= 2 else "MISSED"
            lines.append(f"\n{name}: 1m / 100k = {_format(ratio)} x (target <= 2: {verdict})")
    lines += [f"\n{costs(run)}" for run in runs]
    return "\n".join(lines)


def costs(run: Results) -> str:
    """What a run took: its phases, the offline import's downtime, the peak memory, and
    how many hub searches it made (the scale decides: seconds each at 1m)."""
    phases = ", ".join(
        f"{name} {_format(seconds)} s" for name, seconds in run.get("phases_seconds", {}).items()
    )
    memory = ", ".join(
        f"{name} {_format(_dig(peak, 'sum'))} MiB"
        for name, peak in run.get("memory_peak_rss_mb", {}).items()
    )
    offline = _dig(run, "import", "offline") or {}
    hubs = _dig(run, "search", "hubs_concurrency_1") or {}
    return (
        f"{run['scale']}: harness {_format(run.get('bench_seconds'))} s ({phases}); offline "
        f"import {_format(offline.get('seconds'))} s, Neo4j down "
        f"{_format(offline.get('downtime_seconds'))} s, neo4j-admin peak "
        f"{_format(offline.get('admin_peak_rss_mb'))} MiB; peak RSS: {memory}; hub searches "
        f"{_format(hubs.get('count'))}, p99 {_format(hubs.get('p99_ms'))} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Print a bench result as a table.")
    parser.add_argument("results", type=Path, nargs="+")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--curve", action="store_true", help="the scale curve of several runs")
    args = parser.parse_args()
    runs = [json.loads(path.read_text()) for path in args.results]
    if args.curve:
        print(curve(runs))
        return
    for results in runs:
        print(markdown(results) if args.markdown else table(results))


if __name__ == "__main__":
    main()
