"""Service Bus trigger faults: a killed host, a stop mid-invocation, and broken configurations.

At-least-once is what Service Bus promises: a message a killed host held comes back when its
lock expires, so the test counts distinct message ids, not invocations.
"""

from __future__ import annotations

import signal
import time

from amqp_peer import amqp_peer
from azure.servicebus import ServiceBusMessage
from conftest import APPS, StartHost, run_funchost
from queue_helpers import lines_with, wait_lines, wait_until
from servicebus_helpers import APP, peek, sb_env, send, send_many

OPTION = "AzureFunctionsJobHost__extensions__serviceBus__"
TOTAL = 500


def _ids(lines: list[str]) -> set[str]:
    return {line.split(" SBCOUNT ", 1)[1].strip() for line in lines}


def test_a_sigkill_mid_way_loses_no_message_after_a_restart(start_host: StartHost) -> None:
    with amqp_peer(queues=["kill"], lock_duration=3) as peer:
        send_many(
            peer.connection_string,
            "kill",
            (ServiceBusMessage(f"m{i}", message_id=f"k{i}") for i in range(TOTAL)),
        )
        env = {
            **sb_env(peer.connection_string, count="kill"),
            "SB_COUNT_DELAY": "0.02",
            OPTION + "maxConcurrentCalls": "4",
        }
        first = start_host(APP, "--functions", "count", env=env)
        wait_lines(first, " SBCOUNT ", 100, timeout=30)
        first.stop(signal.SIGKILL)
        before = _ids(lines_with(first, " SBCOUNT "))
        assert 100 <= len(before) < TOTAL, len(before)
        second = start_host(APP, "--functions", "count", env=env)
        wait_until(
            lambda: len(before | _ids(lines_with(second, " SBCOUNT "))) == TOTAL,
            60,
            f"all {TOTAL} message ids",
        )
        wait_until(lambda: not peek(peer.connection_string, "kill"), 20, "an empty queue")
        assert not peek(peer.connection_string, "kill", dead_letter=True)
        # At least once: the messages the killed host held ran again after their locks expired.
        assert len(lines_with(first, " SBCOUNT ")) + len(lines_with(second, " SBCOUNT ")) >= TOTAL


def test_a_stop_lets_the_running_function_finish_and_completes_it(
    start_host: StartHost,
) -> None:
    with amqp_peer(queues=["stop"], lock_duration=5) as peer:
        env = {**sb_env(peer.connection_string, slow="stop"), "SB_SLOW_SECONDS": "1.5"}
        host = start_host(APP, "--functions", "slow", env=env)
        send(peer.connection_string, "stop", "finish me", message_id="f-1")
        wait_lines(host, " SBSLOW start ", 1, timeout=15)
        assert host.stop(signal.SIGTERM) == 0
        assert lines_with(host, " SBSLOW end f-1"), host.output
        assert not peek(peer.connection_string, "stop")


def test_a_function_cancelled_at_the_stop_deadline_has_its_message_back(
    start_host: StartHost,
) -> None:
    with amqp_peer(queues=["cut"], lock_duration=30) as peer:
        env = {**sb_env(peer.connection_string, count="cut"), "SB_COUNT_DELAY": "30"}
        host = start_host(APP, "--functions", "count", "--shutdown-timeout", "1", env=env)
        send(peer.connection_string, "cut", "cut short", message_id="c-1")
        wait_lines(host, "Executing 'Functions.count'", 1, timeout=15)
        started = time.monotonic()
        host.stop(signal.SIGTERM)
        assert time.monotonic() - started < 15
        assert "still running at the stop deadline are cancelled" in host.output, host.output
        # Abandoned, not left locked for 30 s: it is there to take at once, counted once.
        [back] = peek(peer.connection_string, "cut")
        assert (back.message_id, back.delivery_count) == ("c-1", 1)


def _disabled(env: dict[str, str]) -> str:
    done = run_funchost(["check"], APPS / APP, env=env)
    return done.stdout + done.stderr


def test_a_bad_host_json_value_disables_the_function_with_the_key() -> None:
    env = {
        **sb_env("Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=secret-key-1"),
        "SB_TEXT": "q",
        OPTION + "maxConcurrentCalls": "0",
    }
    out = _disabled(env)
    assert (
        "function 'text': binding 'msg' (serviceBusTrigger): "
        "AzureFunctionsJobHost__extensions__serviceBus__maxConcurrentCalls: "
        "'extensions.serviceBus.maxConcurrentCalls' is '0'; expected a whole number of at least 1"
    ) in out
    assert "secret-key-1" not in out


def test_a_missing_or_broken_connection_disables_the_function() -> None:
    out = _disabled({"SB_TEXT": "q"})
    assert (
        "function 'text': binding 'msg' (serviceBusTrigger): connection 'SB' resolves to nothing"
    ) in out
    out = _disabled({"SB_TEXT": "q", "SB": "AccountKey=secret-key-2"})
    assert (
        "function 'text': binding 'msg' (serviceBusTrigger): app setting 'SB' is not a Service "
        "Bus connection string; expected 'Endpoint=sb://"
    ) in out
    assert "secret-key-2" not in out


def test_a_batch_wait_over_the_limit_is_refused() -> None:
    env = {
        **sb_env("Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v"),
        "SB_BATCH": "q",
        OPTION + "maxBatchWaitTime": "00:05:00",
    }
    assert (
        "'extensions.serviceBus.maxBatchWaitTime' is '00:05:00'; expected a TimeSpan from "
        '"00:00:00" to "00:02:30"'
    ) in _disabled(env)


def test_renewal_stops_at_max_auto_lock_renewal_duration(start_host: StartHost) -> None:
    with amqp_peer(queues=["short"], lock_duration=2) as peer:
        env = {
            **sb_env(peer.connection_string, slow="short"),
            "SB_SLOW_SECONDS": "5",
            OPTION + "maxAutoLockRenewalDuration": "00:00:01",
        }
        host = start_host(APP, "--functions", "slow", env=env)
        send(peer.connection_string, "short", "outlives its lock", message_id="o-1")
        # Renewed for 1 s only: the lock lapses mid-run and the broker delivers it again.
        lines = wait_lines(host, " SBSLOW start ", 2, timeout=20)
        assert [line.split(" SBSLOW ", 1)[1] for line in lines[:2]] == [
            "start o-1 1",
            "start o-1 2",
        ]
        wait_lines(host, "complete of message 'o-1' failed", 1, timeout=20)
        assert "will be delivered again once its lock expires" in host.output


def test_a_missing_entity_is_reported_once_without_the_key(start_host: StartHost) -> None:
    with amqp_peer(queues=["exists"]) as peer:
        env = sb_env(peer.connection_string, text="nosuchqueue")
        host = start_host(APP, "--functions", "text", env=env)
        [line] = wait_lines(host, "receiving failed", 1, timeout=20)
        assert "Function 'text' on Service Bus entity 'nosuchqueue': receiving failed: " in line
        time.sleep(3.0)  # it keeps trying, at DEBUG: one ERROR line, not one per attempt
        assert len(lines_with(host, "receiving failed")) == 1, host.output
        assert "SharedAccessKey" not in host.output
