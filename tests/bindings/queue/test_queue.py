"""Queue trigger and queue output through the real ``funchost start`` and a real Azurite.

Each test uses queues of its own (queue_helpers.unique) and sets host.json options with
``AzureFunctionsJobHost__extensions__queues__*`` variables, as a user may. Timings carry
tolerances: a loaded machine may poll late, never early.
"""

from __future__ import annotations

import itertools
import json
import time
from datetime import datetime, timedelta, timezone

from azure.storage.queue import AccountSasPermissions, ResourceTypes, generate_account_sas
from azurite import ACCOUNT, ACCOUNT_KEY, Azurite
from conftest import APPS, StartHost, run_funchost
from http_helpers import REASON, call
from queue_helpers import (
    APP,
    DEBUG_QUEUE_LOGS,
    bodies,
    create,
    lines_with,
    logged,
    message_count,
    queue_env,
    send,
    stamp,
    stored,
    unique,
    wait_lines,
    wait_until,
)

OPTION = "AzureFunctionsJobHost__extensions__queues__"


def test_a_message_runs_the_function_once_with_its_fields(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("fields")
    host = start_host(APP, "--functions", "fields", env=queue_env(azurite, fields=queue))
    assert "\tfields: queueTrigger" in host.output
    [sent] = send(azurite, queue, '{"k": "v"}')
    wait_lines(host, " FIELDS ", 1, timeout=10)
    [seen] = logged(host, "FIELDS")
    assert seen["id"] == sent.id
    assert (seen["body"], seen["json"]) == ('{"k": "v"}', {"k": "v"})
    assert seen["dequeue_count"] == 1
    assert seen["insertion_time"] == sent.inserted_on.isoformat()
    assert seen["expiration_time"] == sent.expires_on.isoformat()
    assert seen["pop_receipt"]
    # Invisible for the 10 minutes the host takes while the function runs.
    visible = datetime.fromisoformat(seen["time_next_visible"])
    assert timedelta(minutes=9) < visible - datetime.now(timezone.utc) <= timedelta(minutes=10)
    [executing] = lines_with(host, "Executing 'Functions.fields'")
    assert f"(Reason='New queue message detected on '{queue}'.', Id=" in executing
    inserted = f"{sent.inserted_on:%Y-%m-%dT%H:%M:%S}.000+00:00"
    details = f"Trigger Details: MessageId: {sent.id}, DequeueCount: 1, InsertedOn: {inserted}"
    assert any(line.endswith(details) for line in host.lines), host.output
    wait_until(lambda: message_count(azurite, queue) == 0, 5, "the message to be deleted")
    time.sleep(1.0)
    assert len(lines_with(host, " FIELDS ")) == 1, host.output


def test_binary_data_type_gets_the_bytes(start_host: StartHost, azurite: Azurite) -> None:
    queue = unique("binary")
    host = start_host(APP, "--functions", "binary", env=queue_env(azurite, binary=queue))
    send(azurite, queue, b"\xff\x00 not utf-8")
    [line] = wait_lines(host, " BINARY ", 1, timeout=10)
    assert line.endswith(" BINARY " + b"\xff\x00 not utf-8".hex())


def test_a_message_that_is_not_base64_goes_to_poison_unread(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("decode")
    host = start_host(APP, "--functions", "fields", env=queue_env(azurite, fields=queue))
    [sent] = [create(azurite, queue).send_message("not base64!")]
    wait_lines(host, f"Moving message to queue '{queue}-poison'.", 1, timeout=10)
    assert f"Message decoding has failed! Check MessageEncoding settings. MessageId={sent.id}." in (
        host.output
    )
    # Copied as it was stored, and removed from the queue; the function never ran.
    wait_until(lambda: stored(azurite, f"{queue}-poison") == ["not base64!"], 5, "the copy")
    assert message_count(azurite, queue) == 0
    assert "Executing 'Functions.fields'" not in host.output


def test_message_encoding_none_reads_and_writes_plain_text(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue, target = unique("plain"), unique("dest")
    env = {**queue_env(azurite, route=queue), f"{OPTION}messageEncoding": "none"}
    host = start_host(APP, "--functions", "routed", env=env)
    create(azurite, queue).send_message(target)
    wait_lines(host, "Executed 'Functions.routed' (Succeeded", 1, timeout=10)
    assert stored(azurite, f"{target}-copy") == [f"copy of {target}"]


def test_a_failing_message_reaches_poison_after_max_dequeue_count(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("fail")
    env = {**queue_env(azurite, fail=queue), f"{OPTION}maxDequeueCount": "3"}
    host = start_host(APP, "--functions", "failing", env=env)
    send(azurite, queue, "bad one")
    wait_until(lambda: bodies(azurite, f"{queue}-poison") == [b"bad one"], 15, "the poison copy")
    host.drain(0.5)
    attempts = [line.split(" ATTEMPT ", 1)[1] for line in lines_with(host, " ATTEMPT ")]
    assert attempts == ["bad one 1", "bad one 2", "bad one 3"], host.output
    assert len(lines_with(host, "Executed 'Functions.failing' (Failed")) == 3
    assert lines_with(host, "Message has reached MaxDequeueCount of 3. Moving message to queue")
    assert message_count(azurite, queue) == 0


def test_visibility_timeout_delays_the_next_attempt(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("delay")
    env = {
        **queue_env(azurite, fail=queue),
        f"{OPTION}maxDequeueCount": "2",
        f"{OPTION}visibilityTimeout": "00:00:02",
        f"{OPTION}maxPollingInterval": "00:00:00.500",
    }
    host = start_host(APP, "--functions", "failing", env=env)
    send(azurite, queue, "later")
    first, second = wait_lines(host, " ATTEMPT later", 2, timeout=15)
    gap = (stamp(second) - stamp(first)).total_seconds()
    assert 2.0 <= gap < 4.0, (first, second)


def test_an_empty_queue_is_polled_less_and_less_often(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("idle")
    create(azurite, queue)
    env = {**queue_env(azurite, idle=queue), **DEBUG_QUEUE_LOGS}
    env[f"{OPTION}maxPollingInterval"] = "00:00:02"
    host = start_host(APP, "--functions", "idle", env=env)
    waits = _waits(wait_lines(host, "ms before polling queue", 9, timeout=20))
    # Randomized exponential backoff from 100 ms: each delay longer than the last, up to 2 s.
    assert waits[0] == 100, waits
    growing = [w for w in waits if w < 2000]
    assert growing == sorted(growing) and len(set(growing)) == len(growing), waits
    assert waits[-2:] == [2000, 2000], waits
    polls = [stamp(line) for line in lines_with(host, f"on queue '{queue}' with ClientRequestId")]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(polls)]
    assert gaps[-1] >= 1.9 and gaps[0] < 0.5, gaps
    # A message resets the delay to the minimum.
    send(azurite, queue, "wake up")
    wait_lines(host, " IDLE got wake up", 1, timeout=5)
    wait_until(lambda: len(lines_with(host, "ms before polling queue")) > len(waits), 5, "a wait")
    after = lines_with(host, "ms before polling queue")[len(waits) :]
    assert 100 in _waits(after), after


def test_concurrency_is_at_most_batch_size_plus_new_batch_threshold(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("batch")
    env = {
        **queue_env(azurite, slow=queue),
        f"{OPTION}batchSize": "4",
        f"{OPTION}newBatchThreshold": "2",
    }
    host = start_host(APP, "--functions", "slow", env=env)
    # Two short and two long per batch: a new batch comes when only the long two still run.
    send(azurite, queue, *[f"m{i} {0.2 if i % 4 < 2 else 1.5}" for i in range(12)])
    wait_lines(host, " SLOW end ", 12, timeout=20)
    running = [int(line.rsplit("running=", 1)[1]) for line in lines_with(host, " SLOW start ")]
    assert max(running) == 6, running


def test_new_batch_threshold_zero_runs_one_batch_at_a_time(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("pairs")
    env = {
        **queue_env(azurite, slow=queue),
        f"{OPTION}batchSize": "2",
        f"{OPTION}newBatchThreshold": "0",
    }
    host = start_host(APP, "--functions", "slow", env=env)
    send(azurite, queue, *[f"m{i} 0.3" for i in range(8)])
    wait_lines(host, " SLOW end ", 8, timeout=20)
    running = [int(line.rsplit("running=", 1)[1]) for line in lines_with(host, " SLOW start ")]
    assert max(running) == 2, running


def test_a_long_function_keeps_its_message_invisible(
    start_host: StartHost, azurite: Azurite
) -> None:
    # FUNCHOST_QUEUE_MESSAGE_VISIBILITY shortens the host's 10 minutes to 2 s, renewed every 1 s.
    queue = unique("long")
    env = {**queue_env(azurite, slow=queue), "FUNCHOST_QUEUE_MESSAGE_VISIBILITY": "00:00:02"}
    host = start_host(APP, "--functions", "slow", env=env)
    send(azurite, queue, "long 5")
    wait_lines(host, " SLOW start long", 1, timeout=10)
    time.sleep(3.5)  # past the first 2 s: without renewals the message would be visible
    assert stored(azurite, queue) == []
    wait_lines(host, " SLOW end long", 1, timeout=10)
    wait_until(lambda: message_count(azurite, queue) == 0, 5, "the message to be deleted")
    time.sleep(2.5)
    assert len(lines_with(host, " SLOW start long")) == 1, host.output


def test_outputs_are_written_after_success_only(start_host: StartHost, azurite: Azurite) -> None:
    queue = unique("out")
    env = {**queue_env(azurite, out=queue), f"{OPTION}maxDequeueCount": "1"}
    host = start_host(APP, "--functions", "outputs", env=env)
    send(azurite, queue, "ok1", "fail1")
    wait_until(lambda: bodies(azurite, f"{queue}-poison") == [b"fail1"], 10, "fail1 in poison")
    wait_lines(host, "Executed 'Functions.outputs' (Succeeded", 1, timeout=10)
    assert bodies(azurite, f"{queue}-str") == [b"text ok1"]
    assert bodies(azurite, f"{queue}-list") == [b"one ok1", b"two ok1"]
    assert bodies(azurite, f"{queue}-bytes") == [b"\x00\xffraw ok1"]
    assert bodies(azurite, f"{queue}-ret") == [b"return ok1"]
    # A JSON string is re-serialized as the host's Json.NET writes objects: indented.
    [doc] = bodies(azurite, f"{queue}-json")
    assert doc.decode() == json.dumps({"body": "ok1", "n": 1}, indent=2)
    for suffix in ("str", "list", "json", "bytes", "ret"):
        assert not any(b"fail1" in body for body in bodies(azurite, f"{queue}-{suffix}"))


def test_output_queue_names_come_from_binding_expressions(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue, target = unique("route"), unique("dest")
    host = start_host(APP, "--functions", "routed", env=queue_env(azurite, route=queue))
    [sent] = send(azurite, queue, target)
    wait_lines(host, "Executed 'Functions.routed' (Succeeded", 1, timeout=10)
    assert bodies(azurite, f"{target}-copy") == [f"copy of {target}".encode()]
    assert bodies(azurite, f"{queue}-1") == [sent.id.encode()]


def test_admin_api_runs_the_function_with_the_input_as_body(
    start_host: StartHost, azurite: Azurite
) -> None:
    queue = unique("admin")
    host = start_host(APP, "--functions", "fields", env=queue_env(azurite, fields=queue))
    reply = call(host, "POST", "/admin/functions/fields", body='{"input": "hello admin"}')
    assert reply.status == 202, reply.text
    wait_lines(host, " FIELDS ", 1, timeout=10)
    [seen] = logged(host, "FIELDS")
    assert (seen["body"], seen["id"], seen["pop_receipt"]) == ("hello admin", None, None)
    assert seen["dequeue_count"] == 0
    assert seen["expiration_time"] == "9999-12-31T23:59:59.999999+00:00"
    assert f"(Reason='{REASON}', Id=" in lines_with(host, "Executing 'Functions.fields'")[0]


def test_a_missing_trigger_queue_is_created(start_host: StartHost, azurite: Azurite) -> None:
    queue = unique("later")
    host = start_host(APP, "--functions", "fields", env=queue_env(azurite, fields=queue))
    wait_lines(host, f"queue '{queue}' did not exist; created it.", 1, timeout=10)
    assert message_count(azurite, queue) == 0  # it exists now, empty
    send(azurite, queue, "the first message")
    wait_lines(host, " FIELDS ", 1, timeout=10)


def test_a_queue_it_may_not_create_is_waited_for(start_host: StartHost, azurite: Azurite) -> None:
    queue = unique("nocreate")
    # A SAS that may read and process messages but not create queues, as a data-only role.
    sas = generate_account_sas(
        ACCOUNT,
        ACCOUNT_KEY,
        ResourceTypes(container=True, object=True),
        AccountSasPermissions(read=True, process=True, update=True, delete=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    storage = (
        f"QueueEndpoint=http://127.0.0.1:{azurite.queue_port}/{ACCOUNT};SharedAccessSignature={sas}"
    )
    env = {
        **queue_env(azurite, fields=queue),
        "AzureWebJobsStorage": storage,
        f"{OPTION}maxPollingInterval": "00:00:01",
    }
    host = start_host(APP, "--functions", "fields", env=env)
    wait_lines(host, f"queue '{queue}' does not exist and could not be created", 1, timeout=10)
    send(azurite, queue, "now it exists")  # created with the account key
    wait_lines(host, " FIELDS ", 1, timeout=10)
    wait_until(lambda: message_count(azurite, queue) == 0, 10, "the message to be deleted")


def test_bad_options_and_names_disable_the_function() -> None:
    env = {
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "Q_FIELDS": "Bad_Name",
        "Q_FAIL": "fine-name",
        f"{OPTION}batchSize": "64",
    }
    result = run_funchost(["check", "--functions", "fields", "failing"], APPS / APP, env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert (
        "function 'fields': binding 'msg' (queueTrigger): queue name 'bad_name' is not valid; "
        "expected 3 to 63 lowercase letters, digits and dashes, starting and ending with a "
        "letter or digit, without two dashes in a row"
    ) in result.stdout
    assert (
        f"function 'failing': binding 'msg' (queueTrigger): {OPTION}batchSize: "
        "'extensions.queues.batchSize' is '64'; expected a whole number from 1 to 32"
    ) in result.stdout


def _waits(lines: list[str]) -> list[float]:
    return [float(line.split(" will wait ", 1)[1].split(" ms ", 1)[0]) for line in lines]
