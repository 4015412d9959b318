"""Service Bus binding pieces without a host: options, entity names, message shapes, outputs.

Trigger data and metadata are decoded with the library's own converter (and the SDK-type
extension's), as an invocation does, so these tests pin what ``func.ServiceBusMessage`` and
``ServiceBusReceivedMessage`` parameters are built from.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import azure.functions as func
import pytest
from azure.functions.meta import Datum
from azure.servicebus import ServiceBusReceivedMessage
from azure.servicebus._pyamqp.message import Header, Message, Properties

from funchost.bindings.servicebus.config import (
    ServiceBusOptions,
    cardinality_many,
    legacy_keys,
    output_entity,
    service_bus_options,
    trigger_entity,
)
from funchost.bindings.servicebus.messages import Values, data_datum, trigger_event
from funchost.bindings.servicebus.provider import output_messages
from funchost.bindings.servicebus.sdktype import model_binding_datum
from funchost.bindings.servicebus.slots import shares
from funchost.config_section import Section
from funchost.errors import BindingError, ConfigError
from funchost.worker import converters

FILE = "/app/host.json"
TOKEN = "2e523d3e-680a-4986-ab1e-aa9d667dc16c"
ENQUEUED_MS = 1_796_000_000_123  # 2026-11-30T00:53:20.123Z


def options(section: dict[str, Any], **kwargs: Any) -> ServiceBusOptions:
    doc = {"version": "2.0", "extensions": {"serviceBus": section}}
    return service_bus_options(Section.root(doc, FILE), {}, **kwargs)


def received(body: bytes = b"hello", *, count: int = 0, **props: Any) -> ServiceBusReceivedMessage:
    message = Message(
        data=[body],
        header=Header(delivery_count=count),
        properties=Properties(
            message_id=props.get("message_id", b"id-1"),
            content_type=b"application/json",
            correlation_id=b"corr",
            subject=b"subj",
            reply_to=b"replies",
            to=b"someone",
            group_id=props.get("session"),
        ),
        application_properties={b"color": b"blue", b"n": 7},
        message_annotations={
            b"x-opt-sequence-number": props.get("sequence", 42),
            b"x-opt-enqueued-time": ENQUEUED_MS,
            b"x-opt-locked-until": ENQUEUED_MS + 60_000,
            b"x-opt-partition-key": b"pk",
        },
    )
    return ServiceBusReceivedMessage(message, receiver=None, lock_token=TOKEN)


def decoded(event: Any) -> Any:
    converter = func.servicebus.ServiceBusMessageInConverter
    return converter.decode(event.data, trigger_metadata=event.metadata)


# --- options ------------------------------------------------------------------------------


def test_defaults_are_the_extension_defaults() -> None:
    found = options({}, processors=2)
    assert found == ServiceBusOptions(max_concurrent_calls=32)
    assert (found.max_auto_lock_renewal, found.max_message_batch_size) == (300.0, 1000)
    assert (found.max_concurrent_sessions, found.max_batch_wait_time) == (8, 30.0)


def test_options_are_read_ignoring_case() -> None:
    found = options(
        {
            "PrefetchCount": 10,
            "maxConcurrentCalls": "3",
            "autoCompleteMessages": False,
            "maxAutoLockRenewalDuration": "00:00:30",
            "maxMessageBatchSize": 50,
            "minMessageBatchSize": 5,
            "maxBatchWaitTime": "00:00:02",
            "maxConcurrentSessions": 2,
            "sessionIdleTimeout": "00:00:01",
        }
    )
    assert found == ServiceBusOptions(
        prefetch_count=10,
        max_concurrent_calls=3,
        auto_complete_messages=False,
        max_auto_lock_renewal=30.0,
        max_concurrent_sessions=2,
        max_message_batch_size=50,
        min_message_batch_size=5,
        max_batch_wait_time=2.0,
        session_idle_timeout=1.0,
    )


def test_infinite_renewal_is_none() -> None:
    assert options({"maxAutoLockRenewalDuration": "-00:00:00.001"}).max_auto_lock_renewal is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"maxConcurrentCalls": 0},
            "'extensions.serviceBus.maxConcurrentCalls' is 0; expected a whole number of at least",
        ),
        (
            {"prefetchCount": -1},
            "'extensions.serviceBus.prefetchCount' is -1; expected a whole number of at least 0",
        ),
        ({"autoCompleteMessages": "yes"}, "'extensions.serviceBus.autoCompleteMessages' is 'yes'"),
        ({"maxAutoLockRenewalDuration": "-00:00:05"}, 'or "-00:00:00.001" (renew without limit)'),
        (
            {"minMessageBatchSize": 20, "maxMessageBatchSize": 10},
            "expected a whole number from 1 to maxMessageBatchSize (10)",
        ),
        (
            {"maxBatchWaitTime": 30},
            "'extensions.serviceBus.maxBatchWaitTime' is 30; expected a TimeSpan",
        ),
    ],
)
def test_a_bad_value_names_the_key_the_value_and_the_expectation(
    section: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        options(section)
    assert message in str(raised.value)
    assert FILE in str(raised.value)


def test_v4_sections_are_warned_about() -> None:
    doc = {"extensions": {"serviceBus": {"messageHandlerOptions": {"maxConcurrentCalls": 1}}}}
    [warning] = legacy_keys(Section.root(doc, FILE))
    assert "extensions.serviceBus.messageHandlerOptions" in warning
    assert "maxConcurrentCalls" in warning


def test_entities_and_cardinality() -> None:
    assert trigger_entity({"queueName": "q"}).path == "q"
    entity = trigger_entity({"topicName": "t", "subscriptionName": "s"})
    assert entity.path == "t/Subscriptions/s"
    with pytest.raises(
        BindingError,
        match="expected either queueName, or topicName with subscriptionName; found topicName",
    ):
        trigger_entity({"topicName": "t"})
    assert output_entity({"topicName": "t"}).topic == "t"
    with pytest.raises(BindingError, match="found queueName and topicName"):
        output_entity({"queueName": "q", "topicName": "t"})
    assert (cardinality_many({"cardinality": "MANY"}), cardinality_many({})) == (True, False)
    with pytest.raises(BindingError, match="'cardinality' is 'several'; expected one or many"):
        cardinality_many({"cardinality": "several"})


# --- trigger data and metadata -----------------------------------------------------------


def test_one_message_decodes_into_a_service_bus_message() -> None:
    message = received(count=1, session=b"sess")
    event = trigger_event(
        data_datum([b"hello"], False, False), [Values.of(message)], many=False, entity="q"
    )
    assert event.data == Datum("hello", "string")
    meta = event.metadata
    assert meta["DeliveryCount"] == Datum("2", "json")  # .NET counts this delivery
    assert meta["SequenceNumber"] == Datum("42", "json")
    assert meta["EnqueuedTimeUtc"] == Datum(json.dumps("2026-11-30T00:53:20.123"), "json")
    assert meta["EnqueuedTime"] == Datum(json.dumps("2026-11-30T00:53:20.123+00:00"), "json")
    assert meta["ExpiresAtUtc"] == Datum(json.dumps("9999-12-31T23:59:59.9999999"), "json")
    assert meta["UserProperties"] == Datum('{"color":"blue","n":7}', "json")
    assert "TimeToLive" not in meta and "LockedUntil" not in meta  # not in the binding data
    assert "MessageActions" not in meta  # a .NET settlement object
    msg = decoded(event)
    assert isinstance(msg, func.ServiceBusMessage)
    assert (msg.get_body(), msg.message_id, msg.delivery_count) == (b"hello", "id-1", 2)
    assert (msg.content_type, msg.correlation_id, msg.subject, msg.label) == (
        "application/json",
        "corr",
        "subj",
        "subj",
    )
    assert (msg.reply_to, msg.to, msg.session_id, msg.partition_key) == (
        "replies",
        "someone",
        "sess",
        "pk",
    )
    assert (msg.lock_token, msg.sequence_number) == (TOKEN, 42)
    assert msg.enqueued_time_utc == dt.datetime(2026, 11, 30, 0, 53, 20, 123000)
    assert msg.user_properties == msg.application_properties == {"color": "blue", "n": 7}


_GETTERS = {
    "MessageId": "message_id",
    "ContentType": "content_type",
    "ReplyTo": "reply_to",
    "To": "to",
    "Subject": "subject",
    "CorrelationId": "correlation_id",
    "SessionId": "session_id",
    "ReplyToSessionId": "reply_to_session_id",
}


@pytest.mark.parametrize(
    "value", [None, b"text", b"\xff not utf-8", b"", "already str", uuid.UUID(int=7), 12345]
)
def test_properties_are_read_as_the_sdk_getters_give_them(value: Any) -> None:
    """Values reads the AMQP properties section itself; it must agree with the SDK's getters."""
    fields = dict.fromkeys(
        (
            "message_id",
            "content_type",
            "reply_to",
            "to",
            "subject",
            "correlation_id",
            "group_id",
            "reply_to_group_id",
        ),
        value,
    )
    message = ServiceBusReceivedMessage(
        Message(data=[b"x"], properties=Properties(**fields)), receiver=None, lock_token=TOKEN
    )
    values = Values.of(message).fields
    for name, getter in _GETTERS.items():
        expected = getattr(message, getter)
        assert (values[name], type(values[name])) == (expected, type(expected)), name


def test_a_message_without_properties_has_none_of_them() -> None:
    message = ServiceBusReceivedMessage(Message(data=[b"x"]), receiver=None, lock_token=TOKEN)
    values = Values.of(message).fields
    assert {values[name] for name in _GETTERS} == {None}


def test_remembered_dates_decode_the_same_and_bad_ones_still_fail() -> None:
    """The worker keeps the library's parsed times by text (converters._remember_parsed_dates)."""
    converters.converter_for("serviceBusTrigger", func.ServiceBusMessage)
    event = trigger_event(
        data_datum([b"hello"], False, False), [Values.of(received())], many=False, entity="q"
    )
    first, again = decoded(event), decoded(event)
    for msg in (first, again):
        assert msg.enqueued_time_utc == dt.datetime(2026, 11, 30, 0, 53, 20, 123000)
        assert msg.expires_at_utc == dt.datetime(9999, 12, 31, 23, 59, 59, 999999)
    parse = func.servicebus.ServiceBusMessageInConverter._parse_datetime
    for _ in range(2):
        with pytest.raises(ValueError):
            parse("not a time")
    assert parse(None) is None


def test_a_batch_decodes_into_a_list_with_the_array_metadata() -> None:
    messages = [
        received(f"b{i}".encode(), message_id=f"id-{i}".encode(), sequence=i) for i in range(3)
    ]
    data = data_datum([f"b{i}".encode() for i in range(3)], False, True)
    event = trigger_event(data, [Values.of(m) for m in messages], many=True, entity="q")
    assert event.data.type == "collection_string"
    assert event.metadata["SequenceNumberArray"] == Datum("[0,1,2]", "json")
    assert event.metadata["MessageIdArray"].value.string == ["id-0", "id-1", "id-2"]
    assert "UserProperties" not in event.metadata
    decoded_batch = decoded(event)
    assert [m.get_body() for m in decoded_batch] == [b"b0", b"b1", b"b2"]
    assert [m.message_id for m in decoded_batch] == ["id-0", "id-1", "id-2"]
    assert [m.delivery_count for m in decoded_batch] == [1, 1, 1]
    assert decoded_batch[2].user_properties == {"color": "blue", "n": 7}


def test_a_binary_batch_is_collection_bytes() -> None:
    data = data_datum([b"\xff", b"\x00"], True, True)
    assert (data.type, data.value.bytes) == ("collection_bytes", [b"\xff", b"\x00"])


def test_the_admin_message_is_the_extension_model_factory_message() -> None:
    event = trigger_event(
        data_datum([b"hi"], False, False), [Values.from_string()], many=False, entity=""
    )
    msg = decoded(event)
    assert (msg.get_body(), msg.message_id, msg.delivery_count) == (b"hi", None, 0)
    assert msg.lock_token == "00000000-0000-0000-0000-000000000000"
    assert event.metadata["EnqueuedTime"] == Datum(json.dumps("0001-01-01T00:00:00+00:00"), "json")


def test_the_sdk_type_is_built_by_the_extension_converter() -> None:
    from azurefunctions.extensions.bindings.servicebus import ServiceBusConverter

    message = received(b'{"a": 1}', count=3)
    datum = model_binding_datum([message], many=False)
    assert datum.value.source == "AzureServiceBusReceivedMessage"
    sdk = ServiceBusConverter.decode(datum, trigger_metadata={}, pytype=None)
    assert (str(sdk), sdk.message_id, str(sdk.lock_token)) == ('{"a": 1}', "id-1", TOKEN)
    assert (sdk.sequence_number, sdk.delivery_count) == (42, 3)
    assert sdk.enqueued_time_utc == dt.datetime(
        2026, 11, 30, 0, 53, 20, 123000, tzinfo=dt.timezone.utc
    )
    batch = model_binding_datum([message, message], many=True)
    assert len(ServiceBusConverter.decode(batch, trigger_metadata={}, pytype=None)) == 2


# --- outputs ------------------------------------------------------------------------------


def test_output_values_become_messages_as_the_collector_makes_them() -> None:
    found = output_messages(Datum('["a", {"x": 1}, 3, true]', "string"))
    assert [(str(m), m.content_type) for m in found] == [
        ("a", "text/plain"),
        ('{\n  "x": 1\n}', "text/plain"),
        ("3", "text/plain"),
        ("True", "text/plain"),
    ]
    [raw] = output_messages(Datum(b"\x00\x01", "bytes"))
    assert (b"".join(raw.body), raw.content_type) == (b"\x00\x01", "application/octet-stream")
    [plain] = output_messages(Datum("not [json", "string"))
    assert str(plain) == "not [json"


def test_connections_by_string_or_identity() -> None:
    from pathlib import Path

    from funchost.bindings.base import BindingContext, BindingSpec
    from funchost.bindings.servicebus.client import service_bus_connection

    spec = BindingSpec("msg", "serviceBusTrigger", "in", {"queueName": "q"})

    def ctx(settings: dict[str, str]) -> BindingContext:
        return BindingContext("f", Path("."), settings, Section.root({}, FILE))

    default = service_bus_connection(spec, ctx({"AzureWebJobsServiceBus": "Endpoint=sb://x/"}))
    assert default.setting == "AzureWebJobsServiceBus"
    named = BindingSpec("msg", "serviceBusTrigger", "in", {"connection": "SB"})
    identity = service_bus_connection(
        named, ctx({"SB__fullyQualifiedNamespace": "ns.servicebus.windows.net"})
    )
    assert identity.is_identity
    with pytest.raises(BindingError, match="no SB__fullyQualifiedNamespace"):
        service_bus_connection(named, ctx({"SB__clientId": "abc"}))
    with pytest.raises(BindingError, match="not a Service Bus connection string") as raised:
        service_bus_connection(named, ctx({"SB": "SharedAccessKey=secret-3"}))
    assert "secret-3" not in str(raised.value)


def test_receivers_share_concurrent_calls_and_prefetch_without_losing_any() -> None:
    """maxConcurrentCalls and prefetchCount split over the receivers, remainder first."""
    assert shares(16, 2) == [8, 8]
    assert shares(3, 2) == [2, 1]
    assert shares(0, 2) == [0, 0]
    assert shares(1, 1) == [1]
