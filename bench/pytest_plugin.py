"""The pytest plugin's costs (issue 20): a request through ``app.http`` once the app is served,
an ``app.invoke``, an app's start, and the whole ``pytest`` run of examples/testing.

    python -m bench.pytest_plugin [--requests 2000] [--rounds 5]

Not a group of the suite's table: there is no anchor, only the issue's bounds (under 5 ms a
request after start-up, under 5 s for the example project's tests). Medians of the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from bench.common import BENCH, HELLO, REPO, BenchError

EXAMPLE = REPO / "examples" / "testing"


def per_call_us(call: Callable[[], None], count: int, rounds: int) -> float:
    """Median over rounds of the mean wall time of one call, in µs."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            call()
        samples.append((time.perf_counter() - started) / count * 1e6)
    return statistics.median(samples)


def in_process(requests: int, rounds: int) -> dict[str, float]:
    """Start the hello app as the fixture does, then time requests and invocations."""
    started = time.perf_counter()
    # What the fixture's first use pays: the host's modules, then the app's start.
    from funchost.host.testing.session import AppSession

    session = AppSession()
    try:
        app = session.app(BENCH / "apps" / "hello")
        start_ms = (time.perf_counter() - started) * 1000
        example = session.app(EXAMPLE, record_outputs=True)
        figures = {"first funchost_app() of a session: imports and start (ms)": start_ms}
        for path in ("/api/async", "/api/sync"):
            if app.http.get(path).body != HELLO:
                raise BenchError(f"{path}: not {HELLO!r}")
            figures[f"GET {path} (µs)"] = per_call_us(
                lambda path=path: _hello(app.http.get(path).body), requests, rounds
            )

        def ship() -> None:
            example.invoke("ship_order", {"item": "x", "quantity": 1})

        figures["invoke of a queue function, outputs recorded (µs)"] = per_call_us(
            ship, requests, rounds
        )
        example.recorded.clear()
        return figures
    finally:
        session.close()


def _hello(body: bytes) -> None:
    if body != HELLO:
        raise BenchError(f"expected {HELLO!r}, got {body[:60]!r}")


def example_run_s(rounds: int) -> float:
    """Median wall time of `pytest` in examples/testing, interpreter start included."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=EXAMPLE,
            capture_output=True,
            text=True,
            timeout=120,
        )
        samples.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise BenchError(f"examples/testing failed:\n{done.stdout}{done.stderr}")
    return statistics.median(samples)


def main() -> None:
    """Print each figure on its own line."""
    parser = argparse.ArgumentParser(prog="python -m bench.pytest_plugin")
    parser.add_argument("--requests", type=int, default=2000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for name, value in in_process(args.requests, args.rounds).items():
        print(f"{name}: {value:.1f}")
    print(f"pytest in examples/testing (s, wall): {example_run_s(args.rounds):.2f}")


if __name__ == "__main__":
    main()
