"""Queue binding pieces without a host: options, names, message shapes and output splitting.

The trigger data is decoded with the library's own converter, as an invocation does, so these
tests pin the shapes ``func.QueueMessage`` is built from.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.meta import Datum
from azure.storage.queue import QueueMessage as StoredMessage

from funchost.bindings.queue.config import (
    QueuesOptions,
    check_queue_name,
    poison_queue_name,
    queue_name,
    queues_options,
)
from funchost.bindings.queue.messages import (
    MAX_DATE,
    admin_event,
    decode_body,
    encode_body,
    trigger_event,
)
from funchost.bindings.shared.outputs import output_bodies
from funchost.config_section import Section
from funchost.errors import BindingError, ConfigError
from funchost.worker import converters

INSERTED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def stored(**fields: Any) -> StoredMessage:
    """A message as the storage SDK returns it from a receive."""
    defaults: dict[str, Any] = {
        "id": "5c1e1b9e-0d7b-4b0f-9f0c-2a3c6f1b8e11",
        "inserted_on": INSERTED,
        "expires_on": INSERTED + timedelta(days=7),
        "next_visible_on": INSERTED + timedelta(minutes=10),
        "dequeue_count": 2,
        "pop_receipt": "AgAAAAMAAAAAAAAA",
    }
    defaults.update(fields)
    return StoredMessage(content="ignored", **defaults)


def decoded(event: Any) -> func.QueueMessage:
    message: func.QueueMessage = converters.decode("queueTrigger", event.data, event.metadata)
    return message


# --- bodies ---------------------------------------------------------------------------------


def test_base64_bodies_decode_like_convert_from_base64_string() -> None:
    assert decode_body(base64.b64encode(b"hi \xff").decode(), "base64") == b"hi \xff"
    assert decode_body("aGk=\r\n", "base64") == b"hi"  # whitespace is skipped
    assert decode_body("", "base64") == b""
    for bad in ("not base64!", "aGk", "aG=k"):
        assert decode_body(bad, "base64") is None, bad


def test_encoding_none_is_the_text_itself() -> None:
    assert decode_body("plain é", "none") == "plain é".encode()
    assert encode_body("plain é".encode(), "none") == "plain é"
    assert encode_body(b"\xff", "none") == "\ufffd"
    assert encode_body(b"\xff", "base64") == "/w=="


# --- trigger data ---------------------------------------------------------------------------


def test_trigger_data_builds_the_queue_message_the_worker_gives() -> None:
    event = trigger_event(stored(), b'{"a": 1}', '{"a": 1}', "orders", binary=False)
    message = decoded(event)
    assert message.id == "5c1e1b9e-0d7b-4b0f-9f0c-2a3c6f1b8e11"
    assert message.get_json() == {"a": 1}
    assert message.dequeue_count == 2
    assert message.insertion_time == INSERTED
    assert message.expiration_time == INSERTED + timedelta(days=7)
    assert message.time_next_visible == INSERTED + timedelta(minutes=10)
    assert message.pop_receipt == "AgAAAAMAAAAAAAAA"
    assert event.reason == "New queue message detected on 'orders'."
    assert event.details == {
        "MessageId": "5c1e1b9e-0d7b-4b0f-9f0c-2a3c6f1b8e11",
        "DequeueCount": "2",
        "InsertedOn": "2026-03-04T05:06:07.000+00:00",
    }


def test_metadata_has_the_hosts_types() -> None:
    event = trigger_event(stored(), b"m", "m", "orders", binary=False)
    types = {name: datum.type for name, datum in event.metadata.items()}
    assert types == {
        "QueueTrigger": "string",
        "DequeueCount": "json",
        "ExpirationTime": "json",
        "Id": "string",
        "InsertionTime": "json",
        "NextVisibleTime": "json",
        "PopReceipt": "string",
    }
    # Json.NET writes a DateTimeOffset with up to 7 fraction digits, trailing zeros cut.
    assert event.metadata["InsertionTime"].value == '"2026-03-04T05:06:07+00:00"'
    later = stored(inserted_on=INSERTED.replace(microsecond=120000))
    late = trigger_event(later, b"m", "m", "q", binary=False)
    assert late.metadata["InsertionTime"].value == '"2026-03-04T05:06:07.12+00:00"'
    assert late.details["InsertedOn"] == "2026-03-04T05:06:07.120+00:00"


def test_missing_times_are_datetimeoffset_max_value() -> None:
    event = trigger_event(stored(expires_on=None), b"m", "m", "q", binary=False)
    assert event.metadata["ExpirationTime"].value == json.dumps(MAX_DATE)
    assert decoded(event).expiration_time == datetime(
        9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc
    )


def test_binary_data_type_and_non_utf8_bodies() -> None:
    event = trigger_event(stored(), b"\xff\x00", None, "q", binary=True)
    assert event.data.type == "bytes"
    assert "QueueTrigger" not in event.metadata  # not a valid string: left out, as the host
    assert decoded(event).get_body() == b"\xff\x00"


def test_admin_event_is_a_message_without_id_or_receipt() -> None:
    message = decoded(admin_event("run me", binary=False))
    assert message.get_body() == b"run me"
    assert (message.id, message.pop_receipt, message.dequeue_count) == (None, None, 0)
    assert message.expiration_time is not None and message.expiration_time.year == 9999


# --- output values --------------------------------------------------------------------------


def encode(value: Any, pytype: Any = None) -> Datum:
    return converters.encode("queue", value, pytype)


def test_plain_values_are_one_message() -> None:
    assert output_bodies(encode("hello")) == [b"hello"]
    assert output_bodies(encode(b"\x00\xff")) == [b"\x00\xff"]
    assert output_bodies(encode("{not json}")) == [b"{not json}"]


def test_lists_and_json_arrays_are_one_message_per_item() -> None:
    assert output_bodies(encode(["a", "b"])) == [b"a", b"b"]
    # FunctionBinding.ReadAsEnumerable: a string that is a JSON array is split too.
    assert output_bodies(encode('["a", 2, true, null]')) == [b"a", b"2", b"True", b""]


def test_json_objects_are_written_indented_as_json_net_does() -> None:
    assert output_bodies(encode('{"a": 1, "b": [1, 2]}')) == [
        json.dumps({"a": 1, "b": [1, 2]}, indent=2).encode()
    ]
    body = func.QueueMessage(body="x")
    assert output_bodies(encode([body])) == [b'{\n  "id": null,\n  "body": "x"\n}']


# --- options and names ----------------------------------------------------------------------


def extensions(section: dict[str, Any]) -> Section:
    return Section.root({"extensions": section}, "host.json")


def test_defaults_are_the_hosts() -> None:
    options = queues_options(extensions({}), {}, processors=2)
    assert options == QueuesOptions(new_batch_threshold=16)  # 16/2 x 2 processors
    assert options.max_concurrency == 32
    assert queues_options(extensions({}), {"WEBSITE_SKU": "Dynamic"}).new_batch_threshold == 8


def test_options_are_read_case_insensitively_from_numbers_or_strings() -> None:
    section = {
        "BatchSize": "4",
        "newBatchThreshold": 0,
        "maxPollingInterval": "00:00:02",
        "visibilityTimeout": "00:00:30",
        "maxDequeueCount": 3,
        "messageEncoding": "None",
    }
    visibility = {"FUNCHOST_QUEUE_MESSAGE_VISIBILITY": "00:00:04"}
    options = queues_options(extensions({"Queues": section}), visibility)
    assert options == QueuesOptions(4, 0, 2.0, 30.0, 3, "none", 4.0)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("batchSize", 0, "a whole number from 1 to 32"),
        ("batchSize", 33, "a whole number from 1 to 32"),
        ("batchSize", True, "a whole number from 1 to 32"),
        ("batchSize", "2.5", "a whole number from 1 to 32"),
        ("newBatchThreshold", -1, "a whole number of at least 0"),
        ("maxDequeueCount", 0, "a whole number of at least 1"),
        ("maxPollingInterval", "00:00:00.050", 'a TimeSpan of at least "00:00:00.100"'),
        ("visibilityTimeout", "8.00:00:00", 'a TimeSpan from "00:00:00" to "7.00:00:00"'),
        ("messageEncoding", "utf8", "base64 or none"),
    ],
)
def test_bad_options_name_the_key_and_the_expected(key: str, value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        queues_options(extensions({"queues": {key: value}}), {})
    assert str(caught.value).startswith(
        f"host.json: 'extensions.queues.{key}' is {value!r}; expected {expected}"
    )


def test_queue_names_are_lower_cased_and_checked() -> None:
    assert queue_name({"queueName": "Orders-In"}, template=False) == "orders-in"
    # An expression is kept as written (a format may be case-sensitive) and lower-cased later.
    assert queue_name({"queueName": "Out-{DateTime:MM}"}, template=True) == "Out-{DateTime:MM}"
    for bad in ("ab", "a" * 64, "-ab", "ab-", "a--b", "a_b", "a.b"):
        with pytest.raises(BindingError, match="is not valid"):
            check_queue_name(bad)
    with pytest.raises(BindingError, match="'queueName' is None; expected the name of a queue"):
        queue_name({}, template=False)


def test_poison_queues() -> None:
    assert poison_queue_name("orders") == "orders-poison"
    assert poison_queue_name("orders-poison") is None  # no poison queue for a poison queue
    assert poison_queue_name("a" * 57) is None  # "-poison" would make it longer than 63
    assert poison_queue_name("a" * 56) == "a" * 56 + "-poison"


def test_the_example_host_json_holds_the_defaults() -> None:
    example = json.loads((Path(__file__).resolve().parents[3] / "host.json.example").read_text())
    defaults = queues_options(extensions({}), {}, 2)
    assert queues_options(Section.root(example, "host.json"), {}, 2) == defaults
