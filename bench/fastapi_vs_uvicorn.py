"""FastAPI hello through funchost (func.AsgiFunctionApp) beside the same app on uvicorn.

The same ``bench/apps/fastapi_hello`` app: uvicorn (uvloop, httptools) serves its FastAPI
``api``, funchost serves its ``app`` (the library's AsgiMiddleware in an HTTP function). Same
method as bench/http_hello.py, whose helpers this reuses: the server pinned to CPU 0 and wrk
to CPU 1, interleaved rounds, medians, plus cold start (spawn → first 200).

    python bench/fastapi_vs_uvicorn.py [--duration 10] [--rounds 3] [--connections 64] [--cold 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from http_hello import RESULTS, Run, cold_start, measure, median_run

APP = Path(__file__).resolve().parent / "apps" / "fastapi_hello"


@dataclass(frozen=True)
class Subject:
    """One server of the FastAPI app and the path it answers on."""

    name: str
    path: str
    funchost: bool  # False = uvicorn, the anchor

    def command(self, port: int) -> list[str]:
        """The command that starts this server on ``port``."""
        if self.funchost:
            script = Path(sys.executable).parent / "funchost"
            return [str(script), "start", "--port", str(port), "--script-root", str(APP)]
        return [
            *(sys.executable, "-m", "uvicorn", "function_app:api", "--app-dir", str(APP)),
            *("--port", str(port), "--loop", "uvloop", "--http", "httptools"),
            *("--no-access-log", "--log-level", "warning"),
        ]


SUBJECTS = (
    Subject("uvicorn FastAPI", "/hello", funchost=False),
    Subject("funchost AsgiFunctionApp", "/hello", funchost=True),
)


def main() -> None:
    """Measure both subjects in interleaved rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--cold", type=int, default=5, help="cold-start samples per subject")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing (apt-get install wrk); no load can be generated")
    runs: dict[str, list[Run]] = {s.name: [] for s in SUBJECTS}
    for _ in range(args.rounds):
        for subject in SUBJECTS:
            runs[subject.name].append(measure(subject, args.duration, args.connections))
    results = {name: median_run(r) for name, r in runs.items()}
    colds = {s.name: cold_start(s, args.cold) for s in SUBJECTS}
    report(results, colds, args)


def report(results: dict[str, Run], colds: dict[str, float], args: argparse.Namespace) -> None:
    """Print the table and write bench/results/fastapi_vs_uvicorn.json."""
    anchor = results[SUBJECTS[0].name]
    print(
        f"{'subject':26} {'req/s':>9} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU µs/req':>10} {'RSS MB':>7} {'cold ms':>8}"
    )
    for name, run in results.items():
        print(
            f"{name:26} {run.rps:9.0f} {run.rps / anchor.rps:6.2f} {run.p50_ms:7.2f} "
            f"{run.p99_ms:7.2f} {run.cpu_us_per_req:10.1f} {run.rss_mb:7.1f} {colds[name]:8.0f}"
        )
    RESULTS.mkdir(exist_ok=True)
    doc = {
        "args": vars(args),
        "runs": {k: asdict(v) for k, v in results.items()},
        "cold_start_ms": colds,
    }
    (RESULTS / "fastapi_vs_uvicorn.json").write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
