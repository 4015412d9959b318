"""Service Bus trigger and outputs through the real ``funchost start`` and the AMQP peer.

The peer (tests/peers/amqp) speaks AMQP 1.0 to the real azure-servicebus SDK on both sides:
funchost's listener and the test's own sends, peeks and receives. One peer serves the module;
tests that need another lock duration or delivery count start their own. Each test uses
entities of its own.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from amqp_peer import AmqpPeer, amqp_peer, peer_fixture
from conftest import Host, StartHost
from http_helpers import REASON, call
from queue_helpers import lines_with, logged, wait_lines, wait_until
from servicebus_helpers import APP, peek, sb_env, send, take

QUEUES = [
    f"{name}{i}" for name in ("fields", "text", "binary", "batch", "admin", "sdk") for i in range(2)
]
sb = peer_fixture(
    scope="module",
    queues=[*QUEUES, "out1", "in1", "relayout1"],
    topics=["topic1", "outtopic1"],
    subscriptions=["topic1/sub1", "outtopic1/all"],
    session_queues=["sessions1"],
)
OPTION = "AzureFunctionsJobHost__extensions__serviceBus__"


def batches(host: Host) -> list[list[dict[str, Any]]]:
    """The messages of each batch invocation, as the function logged them."""
    return [doc["messages"] for doc in logged(host, "SBBATCH")]


def test_a_message_runs_the_function_once_with_its_fields(
    start_host: StartHost, sb: AmqpPeer
) -> None:
    host = start_host(
        APP, "--functions", "fields", env=sb_env(sb.connection_string, fields="fields0")
    )
    assert "\tfields: serviceBusTrigger" in host.output
    send(
        sb.connection_string,
        "fields0",
        '{"k": "v"}',
        message_id="id-1",
        correlation_id="corr",
        content_type="application/json",
        subject="subj",
        reply_to="replies",
        to="someone",
        application_properties={"color": "blue", "n": 7},
    )
    wait_lines(host, " SBFIELDS ", 1, timeout=15)
    [seen] = logged(host, "SBFIELDS")
    assert seen["body"] == '{"k": "v"}'
    assert (seen["message_id"], seen["delivery_count"], seen["sequence_number"]) == ("id-1", 1, 1)
    assert (seen["correlation_id"], seen["content_type"]) == ("corr", "application/json")
    assert (seen["subject"], seen["label"], seen["reply_to"], seen["to"]) == (
        "subj",
        "subj",
        "replies",
        "someone",
    )
    assert seen["user_properties"] == seen["application_properties"] == {"color": "blue", "n": 7}
    assert seen["lock_token"] and len(seen["lock_token"]) == 36
    assert seen["enqueued_time_utc"].startswith(time.strftime("%Y-%m-%dT", time.gmtime()))
    # The extension sends ExpiresAtUtc, a DateTime without offset, as the real host does.
    assert seen["expires_at_utc"].startswith("9999-12-31T23:59:59.999999")
    # Not in the extension's binding data: None on Azure too.
    assert (seen["locked_until"], seen["time_to_live"], seen["session_id"]) == (None, None, None)
    [executing] = lines_with(host, "Executing 'Functions.fields'")
    assert "(Reason='New ServiceBus message detected on 'fields0'.', Id=" in executing
    # ServiceBusTriggerInput's details, times as .NET's round-trip ("o") format.
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00"
    details = (
        rf"Trigger Details: MessageId: id-1, SequenceNumber: 1, DeliveryCount: 1, "
        rf"EnqueuedTimeUtc: {stamp}, LockedUntilUtc: {stamp}, SessionId: $"
    )
    assert any(re.search(details, line) for line in host.lines), host.output
    wait_until(lambda: not peek(sb.connection_string, "fields0"), 10, "the message to be completed")
    time.sleep(1.0)
    assert len(lines_with(host, " SBFIELDS ")) == 1, host.output


def test_str_and_bytes_parameters_get_the_body(start_host: StartHost, sb: AmqpPeer) -> None:
    env = sb_env(sb.connection_string, text="text0", binary="binary0")
    host = start_host(APP, "--functions", "text", "binary", env=env)
    send(sb.connection_string, "text0", "plain text")
    send(sb.connection_string, "binary0", b"\xff\x00 not utf-8")
    [text] = wait_lines(host, " SBTEXT ", 1, timeout=15)
    assert text.endswith(" SBTEXT plain text")
    [binary] = wait_lines(host, " SBBINARY ", 1, timeout=15)
    assert binary.endswith(" SBBINARY " + b"\xff\x00 not utf-8".hex())


def test_a_batch_function_gets_the_messages_in_one_invocation(
    start_host: StartHost, sb: AmqpPeer
) -> None:
    send(sb.connection_string, "batch0", *[f"b{i}" for i in range(5)], subject="s")
    host = start_host(APP, "--functions", "batch", env=sb_env(sb.connection_string, batch="batch0"))
    wait_until(lambda: sum(len(b) for b in batches(host)) >= 5, 15, "5 messages")
    found = batches(host)
    assert [m["body"] for b in found for m in b] == [f"b{i}" for i in range(5)]
    assert len(found) <= 2, found  # all five were waiting: one receive takes them
    first = found[0][0]
    assert (first["delivery_count"], first["subject"], first["sequence_number"]) == (1, "s", 1)
    assert "Trigger Details: MessageIdArray: " in host.output
    wait_until(lambda: not peek(sb.connection_string, "batch0"), 10, "the batch to be completed")


def test_max_message_batch_size_caps_a_batch(start_host: StartHost, sb: AmqpPeer) -> None:
    send(sb.connection_string, "batch1", *[f"b{i}" for i in range(7)])
    env = {**sb_env(sb.connection_string, batch="batch1"), OPTION + "maxMessageBatchSize": "3"}
    host = start_host(APP, "--functions", "batch", env=env)
    wait_until(lambda: sum(len(b) for b in batches(host)) >= 7, 15, "7 messages")
    sizes = [len(b) for b in batches(host)]
    assert max(sizes) <= 3 and sum(sizes) == 7, sizes


def test_a_topic_subscription_triggers(start_host: StartHost, sb: AmqpPeer) -> None:
    env = sb_env(sb.connection_string, topic="topic1", sub="sub1")
    host = start_host(APP, "--functions", "topic", env=env)
    send(sb.connection_string, "topic1", "to the topic", message_id="t-1")
    wait_lines(host, " SBTOPIC ", 1, timeout=15)
    [seen] = logged(host, "SBTOPIC")
    assert (seen["body"], seen["message_id"]) == ("to the topic", "t-1")
    [executing] = lines_with(host, "Executing 'Functions.topic'")
    assert "detected on 'topic1/Subscriptions/sub1'" in executing


def test_sessions_keep_each_session_in_order(start_host: StartHost, sb: AmqpPeer) -> None:
    for i in range(4):
        for session in ("alpha", "beta"):
            send(sb.connection_string, "sessions1", f"{session}-{i}", session_id=session)
    env = {
        **sb_env(sb.connection_string, sessions="sessions1"),
        OPTION + "sessionIdleTimeout": "00:00:01",
    }
    host = start_host(APP, "--functions", "sessions", env=env)
    lines = wait_lines(host, " SBSESSION ", 8, timeout=20)
    seen = [line.split(" SBSESSION ", 1)[1].split() for line in lines]
    for session in ("alpha", "beta"):
        assert [body for sid, body in seen if sid == session] == [
            f"{session}-{i}" for i in range(4)
        ]
    assert {sid for sid, _ in seen} == {"alpha", "beta"}
    time.sleep(2.0)  # completed, not redelivered (a session queue cannot be peeked sessionless)
    assert len(lines_with(host, " SBSESSION ")) == 8, host.output


def test_admin_invoke_runs_with_a_message_made_from_the_input(
    start_host: StartHost, sb: AmqpPeer
) -> None:
    host = start_host(
        APP, "--functions", "fields", env=sb_env(sb.connection_string, fields="admin0")
    )
    reply = call(host, "POST", "/admin/functions/fields", body='{"input": "hello admin"}')
    assert reply.status == 202, reply.text
    wait_lines(host, " SBFIELDS ", 1, timeout=10)
    [seen] = logged(host, "SBFIELDS")
    assert (seen["body"], seen["message_id"], seen["delivery_count"]) == ("hello admin", None, 0)
    assert seen["lock_token"] == "00000000-0000-0000-0000-000000000000"
    assert seen["sequence_number"] == -1
    assert f"(Reason='{REASON}', Id=" in lines_with(host, "Executing 'Functions.fields'")[0]


def test_outputs_land_in_queues_and_topics(start_host: StartHost, sb: AmqpPeer) -> None:
    env = sb_env(sb.connection_string, out="out1", out_topic="outtopic1", **{"in": "in1"})
    host = start_host("sb_output", env=env)
    assert call(host, "POST", "/api/to_queue", body='["a", {"x": 1}, 3]').status == 200
    assert call(host, "POST", "/api/to_queue_bytes", body="raw").status == 200
    assert call(host, "POST", "/api/fails_after_set", body="x").status == 500
    got = take(sb.connection_string, "out1")
    assert [(str(m), m.content_type) for m in got] == [
        ("a", "text/plain"),
        ('{\n  "x": 1\n}', "text/plain"),
        ("3", "text/plain"),
        ("raw", "application/octet-stream"),
    ]
    assert call(host, "POST", "/api/to_topic", body="to all").status == 200
    assert [str(m) for m in take(sb.connection_string, "outtopic1/all")] == ["to all"]
    send(sb.connection_string, "in1", "relay me", message_id="r-1")
    wait_lines(host, "Executed 'Functions.relay' (Succeeded", 1, timeout=15)
    [relayed] = take(sb.connection_string, "out1")
    assert json.loads(str(relayed)) == {"from": "r-1", "body": "RELAY ME"}


def test_a_failing_message_is_redelivered_then_dead_lettered(start_host: StartHost) -> None:
    with amqp_peer(queues=["fail"], max_delivery_count=3) as peer:
        host = start_host(
            APP, "--functions", "failing", env=sb_env(peer.connection_string, failing="fail")
        )
        send(peer.connection_string, "fail", "doomed", message_id="d-1")
        lines = wait_lines(host, " SBFAIL ", 3, timeout=20)
        assert [line.split(" SBFAIL ", 1)[1] for line in lines] == ["d-1 1", "d-1 2", "d-1 3"]
        dead = wait_until(lambda: peek(peer.connection_string, "fail", dead_letter=True), 10, "DLQ")
        assert [m.message_id for m in dead] == ["d-1"]
        assert not peek(peer.connection_string, "fail")
        time.sleep(1.0)
        assert len(lines_with(host, " SBFAIL ")) == 3, host.output
        assert "RuntimeError: failing on purpose" in host.output


def test_lock_renewal_keeps_a_function_that_outlasts_the_lock(start_host: StartHost) -> None:
    with amqp_peer(queues=["slow"], lock_duration=2) as peer:
        env = {**sb_env(peer.connection_string, slow="slow"), "SB_SLOW_SECONDS": "4.5"}
        host = start_host(APP, "--functions", "slow", env=env)
        send(peer.connection_string, "slow", "take your time", message_id="s-1")
        wait_lines(host, " SBSLOW end ", 1, timeout=20)
        wait_lines(host, "Executed 'Functions.slow' (Succeeded", 1, timeout=5)
        time.sleep(2.5)  # past another lock duration: a lost lock would have redelivered it
        assert [line.split(" SBSLOW ", 1)[1] for line in lines_with(host, " SBSLOW start ")] == [
            "start s-1 1"
        ], host.output
        assert not peek(peer.connection_string, "slow")


def test_an_sdk_type_parameter_gets_the_sdk_message(start_host: StartHost, sb: AmqpPeer) -> None:
    env = sb_env(sb.connection_string, sdk="sdk0", sdk_batch="sdk1")
    host = start_host("sb_sdk_types", env=env)
    send(
        sb.connection_string,
        "sdk0",
        "as the sdk",
        message_id="x-1",
        content_type="text/plain",
        application_properties={"k": "v"},
    )
    wait_lines(host, " SBSDK ", 1, timeout=15)
    [seen] = logged(host, "SBSDK")
    assert seen["type"] == "azure.servicebus._common.message.ServiceBusReceivedMessage"
    assert (seen["body"], seen["message_id"], seen["content_type"]) == (
        "as the sdk",
        "x-1",
        "text/plain",
    )
    assert seen["application_properties"] == {"k": "v"}
    assert len(seen["lock_token"]) == 36 and seen["sequence_number"] >= 1
    send(sb.connection_string, "sdk1", "one", "two")

    def sdk_bodies() -> list[str]:
        lines = lines_with(host, " SBSDKBATCH ")
        return [b for line in lines for b in json.loads(line.split(" SBSDKBATCH ", 1)[1])]

    wait_until(lambda: len(sdk_bodies()) >= 2, 15, "the SDK batch")
    assert sdk_bodies() == ["one", "two"]
    wait_until(lambda: not peek(sb.connection_string, "sdk0"), 10, "completed")
