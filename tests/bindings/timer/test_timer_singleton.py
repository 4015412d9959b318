"""Two ``funchost start`` processes on one app: each occurrence runs in exactly one of them.

Without storage the listener lock is an flock in the state folder; with ``AzureWebJobsStorage``
(Azurite) it is the blob lease the Functions host takes. The second host waits for the lock;
once the first stops, it takes over (at once for the file; at its next attempt for the lease,
every 15 s as the app's host.json sets ``singleton.listenerLockRecoveryPollingInterval``).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from azurite import Azurite
from conftest import APPS, Host, StartHost

APP = APPS / "timer_singleton"
LOCK = "Host.Functions.every_second.Listener"
WAITING = f"Unable to acquire Singleton lock ({{}}/{LOCK}): another host instance runs the "
ACQUIRED = f"Singleton lock acquired ({{}}/{LOCK})"


def occurrences(host: Host) -> list[int]:
    """The occurrences (whole seconds) the host's function ran for."""
    host.drain(0)
    return [int(line.rsplit(" ", 1)[1]) for line in host.lines if " OCCURRENCE " in line]


def two_hosts_share_the_schedule(
    start_host: StartHost, env: dict[str, str], hostid: str, takeover: float
) -> float:
    """Run both, check the split, stop the first; return how long the takeover took."""
    first = start_host(APP, env=env)
    first.wait_for(ACQUIRED.format(hostid))
    second = start_host(APP, env=env)
    second.wait_for(WAITING.format(hostid))
    time.sleep(3.5)
    assert len(occurrences(first)) >= 3, first.output
    assert occurrences(second) == [], second.output
    stopped = time.monotonic()
    assert first.stop() == 0
    second.wait_for(ACQUIRED.format(hostid), timeout=takeover)
    took = time.monotonic() - stopped
    before = len(occurrences(second))
    deadline = time.monotonic() + 5
    while len(occurrences(second)) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    ran = occurrences(first) + occurrences(second)
    assert len(ran) == len(set(ran)), sorted(ran)
    assert len(occurrences(second)) >= 2, second.output
    return took


def test_file_lock_lets_one_host_run_the_schedule(start_host: StartHost, tmp_path: Path) -> None:
    hostid = "filelock"
    env = {
        "FUNCHOST_STATE_DIR": str(tmp_path),
        "AzureWebJobsStorage": "",
        "AzureFunctionsWebHost__hostid": hostid,
    }
    took = two_hosts_share_the_schedule(start_host, env, hostid, takeover=5)
    assert took < 2.0
    assert (tmp_path / "locks" / hostid / LOCK).exists()


def test_blob_lease_lets_one_host_run_the_schedule(start_host: StartHost, azurite: Azurite) -> None:
    hostid = f"lease-{uuid.uuid4().hex[:12]}"
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureFunctionsWebHost__hostid": hostid,
    }
    # The lease is released on a clean stop; the waiting host finds it free on its next try.
    two_hosts_share_the_schedule(start_host, env, hostid, takeover=20)
