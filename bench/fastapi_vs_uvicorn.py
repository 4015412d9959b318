"""Group fastapi: FastAPI hello through funchost (func.AsgiFunctionApp) beside it on uvicorn.

The same ``bench/apps/fastapi_hello`` app: uvicorn (uvloop, httptools) serves its FastAPI
``api``, funchost serves its ``app`` (the library's AsgiMiddleware in an HTTP function). Needs
uvicorn and httptools (the ``test`` extra).

    python -m bench.fastapi_vs_uvicorn [--quick] [--duration 10] [--rounds 3] [--connections 64]
"""

from __future__ import annotations

import sys

from bench.common import BENCH, Options, Probe, funchost_command
from bench.loadgen import require_wrk
from bench.servers import Run, Server, details, interleaved, load_row, median_run
from bench.table import GroupResult, Row, Target, against

APP = BENCH / "apps" / "fastapi_hello"
HELLO = Probe("/hello")
TARGET = Target(">=", 0.95)  # issue 7
P99_TARGET = Target("<=", 1.2)  # issue 17


def uvicorn_command(port: int) -> list[str]:
    """The anchor: the app's FastAPI object on uvicorn with its fastest loop and parser."""
    return [
        *(sys.executable, "-m", "uvicorn", "function_app:api", "--app-dir", str(APP)),
        *("--port", str(port), "--loop", "uvloop", "--http", "httptools"),
        *("--no-access-log", "--log-level", "warning"),
    ]


UVICORN = Server("uvicorn FastAPI", uvicorn_command, HELLO)
FUNCHOST = Server("funchost AsgiFunctionApp", lambda port: funchost_command(APP, port), HELLO)


def fastapi_group(options: Options) -> GroupResult:
    """req/s, latency and CPU per request of AsgiFunctionApp against uvicorn, and p99."""
    require_wrk()
    runs = interleaved("fastapi", (UVICORN, FUNCHOST), options)
    anchor, subject = median_run(runs[UVICORN.name]), median_run(runs[FUNCHOST.name])
    anchor_row = load_row("fastapi", UVICORN.name, anchor)
    rows = [
        anchor_row,
        against(anchor_row, load_row("fastapi", FUNCHOST.name, subject), TARGET),
        against(_p99_row(UVICORN.name, anchor), _p99_row(FUNCHOST.name, subject), P99_TARGET),
    ]
    return GroupResult(rows, details(runs, options))


def _p99_row(name: str, run: Run) -> Row:
    return Row("fastapi", f"{name} p99", run.p99_ms, "ms", p50_ms=run.p50_ms, p99_ms=run.p99_ms)


if __name__ == "__main__":
    from bench.suite import main

    main(("fastapi",), name="fastapi_vs_uvicorn")
