"""Group fastapi: FastAPI hello through funchost (func.AsgiFunctionApp) beside it on uvicorn.

The same ``bench/apps/fastapi_hello`` app: uvicorn (uvloop, httptools) serves its FastAPI
``api``, funchost serves its ``app`` (the library's AsgiMiddleware in an HTTP function). Needs
uvicorn and httptools (the ``test`` extra).

    python -m bench.fastapi_vs_uvicorn [--quick] [--duration 10] [--rounds 3] [--connections 64]
"""

from __future__ import annotations

import sys

from bench.common import BENCH, Options, Probe, funchost_command
from bench.servers import Server, pair_group
from bench.table import GroupResult, Target

APP = BENCH / "apps" / "fastapi_hello"
HELLO = Probe("/hello")
TARGET = Target(">=", 0.95)  # issue 7


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
    """req/s, latency and CPU per request of AsgiFunctionApp against uvicorn."""
    return pair_group("fastapi", UVICORN, FUNCHOST, options, TARGET)


if __name__ == "__main__":
    from bench.suite import main

    main(("fastapi",), name="fastapi_vs_uvicorn")
