"""The one load generator: wrk, one thread, checking every response with bench/wrk/check.lua."""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import BENCH, BenchError, Probe, Skip, pinned

CHECK = BENCH / "wrk" / "check.lua"
MISSING = "wrk is missing (apt-get install wrk): no load can be generated"


@dataclass(frozen=True)
class Load:
    """One wrk run whose every response was 2xx with the expected body."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    wrk_cpu_pct: float  # near 100 means wrk, not the server, set the pace


def require_wrk() -> None:
    """Skip the calling group when wrk is not installed."""
    if shutil.which("wrk") is None:
        raise Skip(MISSING)


def wrk(base_url: str, probe: Probe, duration: int, connections: int) -> Load:
    """Load ``probe`` for ``duration`` seconds; raise BenchError on any wrong response."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        args = _script_args(Path(tmp), probe)
        # One thread: check.lua's counters live per thread, and wrk needs no more on one core.
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", str(CHECK)]
        before = _children_cpu()
        done = subprocess.run(
            pinned([*cmd, base_url + probe.path, "--", *args], 1), capture_output=True, text=True
        )
        wrk_cpu = _children_cpu() - before
    if done.returncode != 0:
        raise BenchError(f"wrk exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    counts = _counts(done.stdout)
    _check(counts, done.stdout, f"{probe.method} {base_url}{probe.path}")
    seconds = counts["duration_us"] / 1e6
    return Load(
        rps=counts["requests"] / seconds,
        p50_ms=counts["p50_us"] / 1000,
        p99_ms=counts["p99_us"] / 1000,
        requests=counts["requests"],
        wrk_cpu_pct=wrk_cpu / seconds * 100,
    )


def _script_args(tmp: Path, probe: Probe) -> list[str]:
    """check.lua's arguments: method, expected body file, request body file if any."""
    expected = tmp / "expected"
    expected.write_bytes(probe.expect)
    args = [probe.method, str(expected)]
    if probe.body is not None:
        body = tmp / "body"
        body.write_bytes(probe.body)
        args.append(str(body))
    return args


def _children_cpu() -> float:
    """CPU seconds of reaped children: around one subprocess.run, that child's (wrk's) own."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _counts(out: str) -> dict[str, int]:
    """The key=value pairs of check.lua's BENCH line."""
    for line in out.splitlines():
        if line.startswith("BENCH "):
            pairs = (item.split("=", 1) for item in line.split()[1:])
            return {key: int(float(value)) for key, value in pairs}
    raise BenchError(f"wrk printed no BENCH line (is {CHECK} intact?):\n{out}")


def _check(counts: dict[str, int], out: str, what: str) -> None:
    """Fail loudly unless every request completed and every response was right."""
    wrong = counts["wrong_status"] + counts["wrong_body"]
    errors = sum(counts[key] for key in ("connect", "read", "write", "timeout"))
    if counts["requests"] == 0 or counts["checked"] != counts["requests"] or wrong or errors:
        first = next((ln for ln in out.splitlines() if ln.startswith("BENCH-WRONG ")), "")
        raise BenchError(
            f"wrong responses from {what}: {counts['wrong_status']} non-2xx, "
            f"{counts['wrong_body']} with a wrong body, {errors} socket errors, "
            f"{counts['checked']} checked of {counts['requests']}\n{first}\n{out}"
        )
