"""The benchmark command: options, the group registry, one table and one JSON file.

python -m bench [--only GROUP[,GROUP]] [--quick] [--duration S] [--rounds N]
                [--connections N] [--cold N] [--messages N] [--depth N] [--occurrences N]
                [--documents N]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata

from bench.common import REPO, RESULTS, BenchError, Options, Skip, can_pin, progress
from bench.table import GroupResult, Row, render

# Group name → "module:function", imported only when the group runs, so a group's
# dependencies (uvicorn, the storage SDK, tests/azurite.py) are needed only by that group.
# The order is the run order: rss reuses the http group's runs.
GROUPS = {
    "http": "bench.http_hello:http_group",
    "rss": "bench.http_hello:rss_group",
    "echo": "bench.echo:echo_group",
    "fastapi": "bench.fastapi_vs_uvicorn:fastapi_group",
    "stream": "bench.sse_stream:stream_group",
    "cold": "bench.cold_start:cold_group",
    "queue": "bench.queue_throughput:queue_group",
    "servicebus": "bench.servicebus_throughput:servicebus_group",
    "eventhubs": "bench.eventhub_throughput:eventhubs_group",
    "cosmosdb": "bench.cosmos_throughput:cosmosdb_group",
    "timer": "bench.timer_jitter:timer_group",
    "reload": "bench.reload_latency:reload_group",
    "workers": "bench.workers_throughput:workers_group",
}
GROUP_HELP = """groups (all by default, in this order):
  http     hello `async def` and `def` through funchost vs raw aiohttp + uvloop (wrk)
  rss      RSS after start and after load, from the http runs (wrk)
  echo     64 KiB POST echo vs raw aiohttp echo (wrk)
  fastapi  FastAPI through AsgiFunctionApp vs the same app on uvicorn (wrk)
  stream   server-sent events/s of a StreamingResponse, AsgiFunctionApp vs uvicorn
  cold     spawn → first 200: hello app vs raw, FastAPI app vs uvicorn
  queue    queue trigger msg/s vs a hand-written SDK loop on Azurite (Azurite)
  servicebus  Service Bus trigger msg/s vs a hand-written SDK loop on the AMQP peer
  eventhubs  Event Hubs trigger events/s vs a hand-written consumer loop (AMQP peer, Azurite)
  cosmosdb  Cosmos DB trigger docs/s vs a hand-written change-feed loop (Cosmos DB peer)
  timer    one-second timer lateness, idle and beside wrk load
  reload   save → new code served under funchost start --reload
  workers  CPU-bound def req/s with --workers 2 vs 1 (wrk)"""
FULL = {
    "duration": 10,
    "warmup": 2,
    "rounds": 3,
    "connections": 64,
    "cold": 10,
    "messages": 10_000,
    "depth": 256,
    "occurrences": 60,
    "documents": 20_000,
}
# --quick: a smoke check that every group still runs and every response is right.
QUICK = FULL | {
    "duration": 1,
    "warmup": 1,
    "rounds": 1,
    "cold": 2,
    "messages": 300,
    "occurrences": 3,
    "documents": 300,
}
GroupFunction = Callable[[Options], GroupResult]


def groups_arg(text: str) -> tuple[str, ...]:
    """--only's value: comma-separated group names, each one we know."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in GROUPS]
    if unknown or not names:
        found = ", ".join(unknown) or repr(text)
        raise argparse.ArgumentTypeError(f"unknown group {found}; expected {', '.join(GROUPS)}")
    return names


def parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The command line; numbers left out take the full (or --quick) defaults."""
    cli = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=GROUP_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument("--only", type=groups_arg, metavar="GROUP[,GROUP]", help="run only these")
    cli.add_argument("--quick", action="store_true", help="short runs, one round: a smoke check")
    numbers = {
        "duration": "seconds of load per run",
        "rounds": "interleaved rounds (medians are reported)",
        "connections": "wrk connections",
        "cold": "cold-start samples per server",
        "messages": "queue, servicebus: messages per run; eventhubs: events per run",
        "depth": "queue: most messages queued at once",
        "occurrences": "timer: runs per phase",
        "documents": "cosmosdb: documents per run",
    }
    for name, text in numbers.items():
        cli.add_argument(f"--{name}", type=int, metavar="N", help=f"{text} (default {FULL[name]})")
    return cli


def build_options(args: argparse.Namespace) -> Options:
    """Options from the parsed command line, defaults filled from FULL or QUICK."""
    defaults = QUICK if args.quick else FULL
    given = {name: getattr(args, name, None) for name in FULL}
    values = {name: defaults[name] if value is None else value for name, value in given.items()}
    for name, value in values.items():
        if value < 1:
            raise SystemExit(f"bench: --{name} must be at least 1, got {value}")
    return Options(quick=args.quick, **values)


def load(group: str) -> GroupFunction:
    """The function that runs a group, imported on first use."""
    module, attr = GROUPS[group].split(":")
    function: GroupFunction = getattr(importlib.import_module(module), attr)
    return function


@dataclass
class Report:
    """Everything one bench command measured, and what it had to skip."""

    options: Options
    rows: list[Row] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The JSON document: the table's rows, then each group's own details."""
        return {
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": _machine(),
            "options": dataclasses.asdict(self.options),
            "rows": [row.to_json() for row in self.rows],
            "skipped": self.skipped,
            "groups": self.details,
        }


def run(groups: Sequence[str], options: Options) -> Report:
    """Run the groups in registry order, skipping those whose tools are missing."""
    report = Report(options)
    for group in (name for name in GROUPS if name in groups):
        progress(f"{group}: running")
        try:
            result = load(group)(options)
        except Skip as skip:
            progress(f"{group}: SKIPPED: {skip}")
            report.skipped[group] = str(skip)
            continue
        report.rows += result.rows
        report.details[group] = result.details
    return report


def _machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "pinned": can_pin(),
        "python": sys.version.split()[0],
        "funchost": metadata.version("funchost"),
    }


def publish(report: Report, name: str) -> None:
    """Print the one table, how it was measured and what was skipped; write the JSON file."""
    print(render(report.rows))
    print(_method(report.options, list(report.details)))
    for group, reason in report.skipped.items():
        print(f"skipped {group}: {reason}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    print(f"results: {path.relative_to(REPO)}")


LOAD_GROUPS = {"http", "rss", "echo", "fastapi"}


def _method(options: Options, ran: Sequence[str]) -> str:
    """How the groups that ran were measured, in a line or two under the table."""
    placement = (
        "server on CPU 0, wrk on CPU 1" if can_pin() else "unpinned (one core or no taskset)"
    )
    parts = []
    if LOAD_GROUPS.intersection(ran):
        parts.append(
            f"medians of {options.rounds} interleaved round(s) of {options.duration} s, "
            f"wrk -t1 -c{options.connections} checking every response, {placement}"
        )
    if "cold" in ran:
        parts.append(f"cold: median of {options.cold} spawns")
    if "queue" in ran:
        parts.append(f"queue: {options.messages} messages per run, fresh Azurite per run")
    if "eventhubs" in ran:
        parts.append(f"eventhubs: {options.messages} events per run, fresh AMQP peer per run")
    if "cosmosdb" in ran:
        parts.append(
            f"cosmosdb: {options.documents} documents per run, fresh Cosmos DB peer per run"
        )
    if "timer" in ran:
        parts.append(f"timer: {options.occurrences} occurrences per phase")
    if options.quick:
        parts.append("--quick: smoke numbers, not for comparison")
    return "\n".join(parts)


def main(groups: Sequence[str] | None = None, name: str = "bench") -> None:
    """Parse the command line, run the groups, report; exit 1 on any wrong response."""
    prog = "python -m bench" if name == "bench" else f"python -m bench.{name}"
    args = parser(prog, sys.modules["__main__"].__doc__).parse_args()
    options = build_options(args)
    chosen = args.only or groups or tuple(GROUPS)
    try:
        report = run(chosen, options)
    except BenchError as error:
        sys.exit(f"bench: FAILED: {error}")
    publish(report, name)
