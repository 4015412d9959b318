"""``python -m funchost.host.ci.ping``: the container's HEALTHCHECK; exit 0 when the host answers.

A module of its own, not ``funchost wait-ready``: the check runs every half minute, and this
imports only urllib, not the host's HTTP server and SDKs.
"""

from __future__ import annotations

import os
import sys

from funchost.host.ci.ready import connect_url, pings

HEALTHY, UNHEALTHY = 0, 1  # Docker reserves 2
_TIMEOUT = 4.0  # under the Dockerfile's --timeout, so a slow answer fails here, not there


def main() -> int:
    """Ping the host at FUNCHOST_ADDRESS / FUNCHOST_PORT, the settings `funchost start` reads."""
    address = os.environ.get("FUNCHOST_ADDRESS") or "127.0.0.1"
    port = os.environ.get("FUNCHOST_PORT") or "7071"
    try:
        url = connect_url(address, int(port))
    except ValueError:
        print(f"FUNCHOST_PORT is {port!r}; expected a port number", file=sys.stderr)
        return UNHEALTHY
    return HEALTHY if pings(url, _TIMEOUT) else UNHEALTHY


if __name__ == "__main__":
    sys.exit(main())
