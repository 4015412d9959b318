"""Event Hubs triggers and outputs through the real ``funchost start``, against the AMQP peer.

Checkpoints go to the session's Azurite (container ``azure-webjobs-eventhub``) or, without
``AzureWebJobsStorage``, to files under the state folder. host.json shortens the SDK's
load-balancing interval to 1 s (the client's close waits it out).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from amqp_peer import AmqpPeer, amqp_peer
from azurite import Azurite
from conftest import APPS, StartHost
from eventhub_helpers import OPTION, checkpoint_blobs, eh_env, read_all, send, spread, wait_seen
from http_helpers import call
from queue_helpers import lines_with, logged, wait_lines

BATCH = "eventhub_batch"
SINGLE = "eventhub_single"


@pytest.fixture
def peer() -> Iterator[AmqpPeer]:
    """A peer of the test's own: hubs of four partitions, offsets from zero."""
    hubs = {name: 4 for name in ("hub", "one", "sdk", "retry", "in", "out")}
    with amqp_peer(eventhubs=hubs) as running:
        yield running


def storage_env(azurite: Azurite, peer: AmqpPeer, **hubs: str) -> dict[str, str]:
    return {"AzureWebJobsStorage": azurite.connection_string, **eh_env(peer, **hubs)}


def test_events_from_four_partitions_are_all_processed_and_checkpointed(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    spread(peer, "hub", 40)
    host = start_host(BATCH, env=storage_env(azurite, peer, hub="hub"))
    found = wait_seen(host, 40, timeout=30)
    assert {partition for partition, _, _ in found} == {"0", "1", "2", "3"}
    assert sorted(body for _, _, body in found) == sorted(f"e{n}" for n in range(40))
    assert host.stop() == 0
    blobs = checkpoint_blobs(azurite, peer)
    # Each partition got 10 events, sequence numbers 0-9: the last one is checkpointed.
    assert sorted(blobs) == [f"127.0.0.1:{peer.port}/hub/$default/checkpoint/{p}" for p in "0123"]
    assert {meta["sequencenumber"] for meta in blobs.values()} == {"9"}


def test_a_restarted_host_resumes_at_its_checkpoints(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    env = storage_env(azurite, peer, hub="hub")
    spread(peer, "hub", 24, tag="first")
    first = start_host(BATCH, env=env)
    wait_seen(first, 24, timeout=30)
    assert first.stop() == 0
    spread(peer, "hub", 8, tag="second")
    second = start_host(BATCH, env=env)
    found = wait_seen(second, 8, timeout=30)
    wait_lines(second, "Executed 'Functions.batch'", 1, timeout=5)
    second.drain(1.0)
    bodies = [body for _, _, body in found]
    assert sorted(bodies) == sorted(f"second{n}" for n in range(8)), second.output


def test_without_storage_checkpoints_live_in_the_state_folder(
    start_host: StartHost, peer: AmqpPeer, tmp_path: Path
) -> None:
    env = {**eh_env(peer, hub="hub"), "FUNCHOST_STATE_DIR": str(tmp_path)}
    spread(peer, "hub", 12, tag="a")
    first = start_host(BATCH, env=env)
    wait_seen(first, 12, timeout=30)
    assert first.stop() == 0
    folder = tmp_path / "eventhubs" / f"127.0.0.1%3A{peer.port}" / "hub" / "$default"
    checkpoints = {p.name: json.loads(p.read_text()) for p in (folder / "checkpoint").iterdir()}
    assert sorted(checkpoints) == ["0", "1", "2", "3"]
    assert {c["sequence_number"] for c in checkpoints.values()} == {2}
    spread(peer, "hub", 4, tag="b")
    second = start_host(BATCH, env=env)
    found = wait_seen(second, 4, timeout=30)
    second.drain(1.0)
    assert sorted(body for _, _, body in found) == ["b0", "b1", "b2", "b3"]


def test_one_event_per_invocation_with_its_metadata(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    send(peer, "one", ["keyed"], partition_key="pk-1", properties={"color": "red", "n": 3})
    send(peer, "one", ["plain"], partition_id="2")
    host = start_host(SINGLE, "--functions", "one", env=storage_env(azurite, peer, one="one"))
    wait_lines(host, " ONE {", 2, timeout=30)
    docs = {doc["body"]: doc for doc in logged(host, "ONE")}
    keyed, plain = docs["keyed"], docs["plain"]
    assert keyed["partition_key"] == "pk-1"
    assert keyed["properties"] == {"color": "red", "n": 3}
    assert keyed["sequence_number"] == 0 and keyed["offset"] is not None
    assert keyed["enqueued_time"] is not None
    assert {"x-opt-sequence-number", "x-opt-offset", "x-opt-enqueued-time"} <= set(keyed["system"])
    assert {"SequenceNumber", "Offset", "PartitionKey", "EnqueuedTimeUtc"} <= set(keyed["system"])
    assert plain["partition"] == "2" and plain["partition_key"] is None
    assert len(lines_with(host, "Executed 'Functions.one' (Succeeded")) == 2
    assert lines_with(host, "Trigger Details: PartitionId: 2, OffsetString:")


def test_an_sdk_type_parameter_gets_the_sdks_event_data(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    send(peer, "sdk", ["typed"], partition_id="1")
    host = start_host(SINGLE, "--functions", "sdk", env=storage_env(azurite, peer, sdk="sdk"))
    [line] = wait_lines(host, " SDK EventData ", 1, timeout=30)
    assert line.endswith(" SDK EventData 0 typed")


def test_the_retry_policy_applies_and_the_stream_goes_on(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    send(peer, "retry", ["fail-1", "ok-2"], partition_id="0")
    env = storage_env(azurite, peer, retry="retry")
    host = start_host(SINGLE, "--functions", "retried", env=env)
    wait_lines(host, " ATTEMPT ok-2 ", 1, timeout=30)
    attempts = Counter(line.split(" ATTEMPT ", 1)[1] for line in lines_with(host, " ATTEMPT "))
    assert attempts == {"fail-1 0": 1, "fail-1 1": 1, "fail-1 2": 1, "ok-2 0": 1}
    assert len(lines_with(host, "Waiting for 00:00:00 before retrying")) == 2


def test_outputs_land_in_the_other_hub(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    send(peer, "in", ["a", "b", "c"], partition_id="3")
    env = storage_env(azurite, peer, **{"in": "in", "out": "out"})
    host = start_host(SINGLE, "--functions", "relay", env=env)
    wait_lines(host, " RELAYED ", 1, timeout=30)
    events = read_all(peer, "out", 3)
    assert sorted(e.body_as_str() for e in events) == ["A", "B", "C"]
    # A Python function names no partition key: the events go as one batch without one.
    assert {e.partition_key for e in events} == {None}


def test_admin_invoke_runs_the_function_with_the_payload(
    start_host: StartHost, azurite: Azurite, peer: AmqpPeer
) -> None:
    host = start_host(SINGLE, "--functions", "one", env=storage_env(azurite, peer, one="one"))
    reply = call(host, "POST", "/admin/functions/one", body='{"input": "from admin"}')
    assert reply.status == 202
    [doc] = [d for d in (wait_lines(host, " ONE {", 1, timeout=10) and logged(host, "ONE"))]
    assert doc["body"] == "from admin"
    assert doc["sequence_number"] == -(2**63) and doc["partition_key"] is None


def test_configuration_errors_disable_only_their_function(
    start_host: StartHost, peer: AmqpPeer
) -> None:
    env = {"EH": peer.connection_string, "BAD": "SharedAccessKey=topsecret"}
    host = start_host(APPS / "eventhub_config", env=env)
    host.drain(0.5)
    output = host.output
    assert "3 function(s) disabled" in output
    assert (
        "function 'unconnected': binding 'event' (eventHubTrigger): connection 'NOWHERE' "
        "resolves to nothing"
    ) in output
    assert (
        "function 'not_event_hubs': binding 'event' (eventHubTrigger): app setting 'BAD' is "
        "not an Event Hubs connection string"
    ) in output
    assert (
        "function 'unset_group': binding 'event' property 'consumerGroup': app setting 'GROUP' "
        "(referenced as %GROUP%) is not set"
    ) in output
    assert "topsecret" not in output
    assert call(host, "GET", "/api/ok").status == 200


def test_a_bad_host_json_option_disables_event_hubs_functions(
    start_host: StartHost, peer: AmqpPeer
) -> None:
    env = {**eh_env(peer, hub="hub"), f"{OPTION}maxEventBatchSize": "0"}
    host = start_host(BATCH, env=env)
    host.drain(0.5)
    assert (
        "function 'batch': binding 'events' (eventHubTrigger): "
        f"{OPTION}maxEventBatchSize: 'extensions.eventHubs.maxEventBatchSize' is '0'; "
        "expected a whole number of at least 1"
    ) in host.output, host.output


def test_without_development_storage_checkpoints_go_to_files_with_a_warning(
    start_host: StartHost, peer: AmqpPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """UseDevelopmentStorage=true on a machine with no Azurite: files, and one warning."""
    from funchost.host.azurite import find_azurite, ports_in_use

    app = tmp_path / "app"
    shutil.copytree(APPS / BATCH, app)
    busy = ports_in_use()
    if busy:
        pytest.skip(f"127.0.0.1 port(s) {busy} are in use (a running Azurite?); they must be free")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    if find_azurite(app, cwd=app) is not None:
        pytest.skip("funchost would find an Azurite to start; this test needs none")
    env = {
        **eh_env(peer, hub="hub"),
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "PATH": str(empty),
    }
    spread(peer, "hub", 8)
    host = start_host(app, env=env)
    wait_seen(host, 8, timeout=30)
    state = app / ".funchost" / "state" / "eventhubs"
    assert (
        "Until then Event Hubs triggers keep their checkpoints and partition ownership in "
        f"files under {state}"
    ) in host.output
    assert host.stop() == 0
    assert len(list(state.glob("*/hub/$default/checkpoint/*"))) == 4
