"""SIGTERM with trigger work in flight: one --shutdown-timeout for all of it, nothing lost."""

from __future__ import annotations

import signal
import time

from azurite import Azurite
from conftest import StartHost
from queue_helpers import bodies, message_count, queue_env, send, unique, wait_until

SHUTDOWN_TIMEOUT = 1.0
# What the issue asks of a host told --shutdown-timeout 1: out within 2 s of SIGTERM (a
# container is killed at 30 s). Before listeners stopped concurrently it took 60 s.
EXIT_BOUND = 2.0


def test_sigterm_stops_timers_and_queue_mid_run_within_the_timeout_and_keeps_the_message(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("slow")
    send(azurite, queue, "keep me")
    host = start_host(
        "shutdown_triggers",
        "--shutdown-timeout",
        str(SHUTDOWN_TIMEOUT),
        env=queue_env(azurite, slow=queue),
    )
    for name in ("first_timer", "second_timer", "slow_queue keep me"):
        host.wait_for(f"started {name}")

    signalled = time.monotonic()
    host.proc.send_signal(signal.SIGTERM)
    code = host.proc.wait(timeout=30)
    took = time.monotonic() - signalled
    host.stop()

    assert code == 0, host.output
    assert took < EXIT_BOUND, f"exited {took:.2f} s after SIGTERM:\n{host.output}"
    # Cancelled at the deadline, the message was released, not deleted: it is visible again
    # at once (not after its 10-minute visibility timeout) for the next host to take.
    assert message_count(azurite, queue) == 1
    assert wait_until(lambda: bodies(azurite, queue), 5, "the message to be visible") == [
        b"keep me"
    ]
