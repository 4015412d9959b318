"""Group echo: a 64 KiB POST echoed back by funchost, beside raw aiohttp echoing it.

Every response body is compared with the whole 64 KiB sent (bench/wrk/check.lua).

    python -m bench.echo [--quick] [--duration 10] [--rounds 3] [--connections 64]
"""

from __future__ import annotations

from bench.common import BENCH, Options, Probe, funchost_command
from bench.servers import Server, pair_group, raw_command
from bench.table import GroupResult

APP = BENCH / "apps" / "hello"
# Every byte value, so a body decoded or re-encoded as text on the way would not come back equal.
BODY = bytes(range(256)) * 256
ECHO = Probe("/api/echo", expect=BODY, method="POST", body=BODY)
RAW = Server("raw aiohttp echo", raw_command, ECHO)
FUNCHOST = Server("funchost echo 64 KiB", lambda port: funchost_command(APP, port), ECHO)


def echo_group(options: Options) -> GroupResult:
    """req/s, latency and CPU per request of the echo against raw aiohttp's."""
    return pair_group("echo", RAW, FUNCHOST, options)


if __name__ == "__main__":
    from bench.suite import main

    main(("echo",), name="echo")
