"""FastAPI hello through funchost (func.AsgiFunctionApp) beside the same app on uvicorn.

The same ``bench/apps/fastapi_hello`` app: uvicorn (uvloop, httptools) serves its FastAPI
``api``, funchost serves its ``app`` (the library's AsgiMiddleware in an HTTP function). Same
method as bench/http_hello.py, whose helpers this reuses: the server pinned to CPU 0 and wrk
to CPU 1, interleaved rounds, medians, plus cold start (spawn → first 200).

    python bench/fastapi_vs_uvicorn.py [--duration 10] [--rounds 3] [--connections 64] [--cold 5]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from http_hello import run_benchmark

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
    run_benchmark("fastapi_vs_uvicorn", SUBJECTS, SUBJECTS, default_cold=5)


if __name__ == "__main__":
    main()
