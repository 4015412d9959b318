"""Groups http and rss: HTTP hello through funchost (async def, def) beside raw aiohttp + uvloop.

Both groups come from the same runs: req/s, p50/p99 and CPU per request for http; the RSS
right after the first answer and after the load for rss.

    python -m bench.http_hello [--quick] [--duration 10] [--rounds 3] [--connections 64]
"""

from __future__ import annotations

import functools

from bench.common import BENCH, Options, Probe, funchost_command
from bench.loadgen import require_wrk
from bench.servers import Run, Server, details, interleaved, load_row, median_run, raw_command
from bench.table import GroupResult, Row, Target, against

APP = BENCH / "apps" / "hello"
HELLO_ASYNC = Probe("/api/async")
RAW = Server("raw aiohttp+uvloop", raw_command, HELLO_ASYNC)
ASYNC = Server("funchost async def", lambda port: funchost_command(APP, port), HELLO_ASYNC)
SYNC = Server("funchost def", lambda port: funchost_command(APP, port), Probe("/api/sync"))
# Issue 7's targets.
ASYNC_RPS = Target(">=", 0.85)
SYNC_RPS = Target(">=", 0.60)
ASYNC_P99 = Target("<=", 1.5)
LOADED_RSS = Target("<=", 1.25)


@functools.cache
def hello_runs(options: Options) -> dict[str, list[Run]]:
    """The runs both groups read, measured once per bench however many of them are asked for."""
    require_wrk()
    return interleaved("http", (RAW, ASYNC, SYNC), options)


def http_group(options: Options) -> GroupResult:
    """req/s and p99 of the async and sync hello against the raw server."""
    runs = hello_runs(options)
    raw, fast, sync = (median_run(runs[server.name]) for server in (RAW, ASYNC, SYNC))
    anchor = load_row("http", RAW.name, raw)
    rows = [
        anchor,
        against(anchor, load_row("http", ASYNC.name, fast), ASYNC_RPS),
        against(anchor, load_row("http", SYNC.name, sync), SYNC_RPS),
        against(_p99_row(RAW.name, raw), _p99_row(ASYNC.name, fast), ASYNC_P99),
    ]
    return GroupResult(rows, details(runs, options))


def _p99_row(name: str, run: Run) -> Row:
    return Row("http", f"{name} p99", run.p99_ms, "ms", p50_ms=run.p50_ms, p99_ms=run.p99_ms)


def rss_group(options: Options) -> GroupResult:
    """RSS right after start and after the load, of the hello app against the raw server."""
    runs = hello_runs(options)
    raw, fast, sync = (median_run(runs[server.name]) for server in (RAW, ASYNC, SYNC))
    raw_idle = Row("rss", f"{RAW.name} idle", raw.rss_idle_mb, "MB")
    raw_loaded = Row("rss", f"{RAW.name} after load", raw.rss_mb, "MB")
    rows = [
        raw_idle,
        against(raw_idle, Row("rss", f"{ASYNC.name} idle", fast.rss_idle_mb, "MB")),
        raw_loaded,
        against(raw_loaded, Row("rss", f"{ASYNC.name} after load", fast.rss_mb, "MB"), LOADED_RSS),
        against(raw_loaded, Row("rss", f"{SYNC.name} after load", sync.rss_mb, "MB")),
    ]
    return GroupResult(rows, {"see": "http group runs (rss_idle_mb, rss_mb)"})


if __name__ == "__main__":
    from bench.suite import main

    main(("http", "rss"), name="http_hello")
