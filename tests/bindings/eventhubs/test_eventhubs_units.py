"""Event Hubs without a broker: host.json options, connections, what a function gets, and the
local-files checkpoint store (the SDK's own load-balancing rules run over it)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.eventhub import EventData
from azure.eventhub._pyamqp.message import Message, Properties
from azure.functions.meta import Datum

from funchost.bindings.base import BindingContext, BindingSpec
from funchost.bindings.eventhubs.config import eventhubs_options, trigger_properties
from funchost.bindings.eventhubs.connection import event_hub_connection
from funchost.bindings.eventhubs.eventdata import model_binding_data
from funchost.bindings.eventhubs.events import (
    Partition,
    Shape,
    admin_event,
    batch_event,
    single_event,
    trigger_details,
)
from funchost.bindings.eventhubs.filestore import FileCheckpointStore
from funchost.config_section import Section
from funchost.errors import BindingError, ConfigError
from funchost.worker import converters

ENQUEUED_MS = 1_700_000_000_123  # 2023-11-14T22:13:20.123Z
PARTITION = Partition("127.0.0.1:5671", "hub", "$Default", "2", checkpointing=True)
SECRET = "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=SECRETKEY;UseDevelopmentEmulator=true"


def received(body: bytes, sequence: int, *, key: bytes | None = b"pk", **annotations: Any) -> Any:
    """An EventData as the SDK builds it from a received AMQP message."""
    notes: dict[bytes, Any] = {
        b"x-opt-sequence-number": sequence,
        b"x-opt-offset": str(sequence * 100).encode(),
        b"x-opt-enqueued-time": ENQUEUED_MS,
    }
    if key is not None:
        notes[b"x-opt-partition-key"] = key
    notes.update({k.replace("_", "-").encode(): v for k, v in annotations.items()})
    message = Message(
        # as a receiver tracking the last enqueued event gets them
        delivery_annotations={
            b"last_enqueued_time_utc": ENQUEUED_MS,
            b"last_enqueued_sequence_number": 9,
        },
        data=[body],
        message_annotations=notes,
        application_properties={b"color": b"red", b"n": 3},
        properties=Properties(message_id=b"m1", content_type=b"application/json"),
    )
    return EventData._from_message(message)


def host_json(section: dict[str, Any]) -> Section:
    return Section.root({"version": "2.0", "extensions": {"eventHubs": section}}, "host.json")


def context(settings: dict[str, str], tmp_path: Path) -> BindingContext:
    return BindingContext("fn", tmp_path, settings, host_json({}))


def spec(**props: Any) -> BindingSpec:
    raw = {"name": "e", "type": "eventHubTrigger", "direction": "in", **props}
    return BindingSpec.from_json(raw)


# --- host.json ------------------------------------------------------------------------------


def test_defaults_are_the_v5_extensions() -> None:
    options = eventhubs_options(host_json({}))
    assert options.max_event_batch_size == 10
    assert options.batch_checkpoint_frequency == 1
    assert options.prefetch_count == 300
    assert options.initial_offset.starting_position() == ("-1", False)
    assert (options.load_balancing_interval, options.ownership_expiration) == (10.0, 30.0)


def test_host_json_example_holds_the_defaults() -> None:
    example = json.loads((Path(__file__).resolve().parents[3] / "host.json.example").read_text())
    assert "eventHubs" in example["extensions"]
    example_section = Section.root(example, "host.json.example")
    assert eventhubs_options(example_section) == eventhubs_options(host_json({}))


def test_options_are_read_ignoring_case() -> None:
    options = eventhubs_options(
        host_json(
            {
                "MaxEventBatchSize": 64,
                "batchcheckpointfrequency": "3",
                "prefetchCount": 0,
                "initialOffsetOptions": {
                    "type": "fromEnqueuedTime",
                    "enqueuedTimeUtc": "2026-10-26T20:31Z",
                },
                "loadBalancingUpdateInterval": "00:00:01",
                "partitionOwnershipExpirationInterval": "00:00:05",
            }
        )
    )
    assert (options.max_event_batch_size, options.batch_checkpoint_frequency) == (64, 3)
    position, inclusive = options.initial_offset.starting_position()
    assert position == datetime(2026, 10, 26, 20, 31, tzinfo=timezone.utc) and inclusive
    assert options.initial_offset.type == "fromEnqueuedTime"
    assert eventhubs_options(host_json({"initialOffsetOptions": {"type": "FROMEND"}}))
    assert eventhubs_options(
        host_json({"initialOffsetOptions": {"type": "fromEnd"}})
    ).initial_offset.starting_position() == ("@latest", False)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"maxEventBatchSize": 0},
            "host.json: 'extensions.eventHubs.maxEventBatchSize' is 0; "
            "expected a whole number of at least 1",
        ),
        (
            {"batchCheckpointFrequency": "often"},
            "host.json: 'extensions.eventHubs.batchCheckpointFrequency' is 'often'; "
            "expected a whole number of at least 1",
        ),
        (
            {"maxEventBatchSize": 5, "minEventBatchSize": 6},
            "host.json: 'extensions.eventHubs.minEventBatchSize' is 6; "
            "expected a whole number from 1 to maxEventBatchSize (5)",
        ),
        (
            {"initialOffsetOptions": {"type": "fromNowOn"}},
            "host.json: 'extensions.eventHubs.initialOffsetOptions.type' is 'fromNowOn'; "
            "expected one of fromStart, fromEnd, fromEnqueuedTime",
        ),
        (
            {"initialOffsetOptions": {"type": "fromEnqueuedTime"}},
            "host.json: 'extensions.eventHubs.initialOffsetOptions.enqueuedTimeUtc' is missing; "
            'expected a date and time such as "2026-10-26T20:31Z" (required when type is '
            "fromEnqueuedTime)",
        ),
        (
            {"maxWaitTime": "00:11:00"},
            "host.json: 'extensions.eventHubs.maxWaitTime' is '00:11:00'; "
            'expected a TimeSpan from "00:00:00" to "00:10:00"',
        ),
    ],
)
def test_a_bad_option_names_key_value_and_expectation(
    section: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        eventhubs_options(host_json(section))
    assert str(caught.value) == message


# --- binding properties and connections --------------------------------------------------


def test_cardinality_consumer_group_and_setting_references(tmp_path: Path) -> None:
    ctx = context({"HUB": "orders", "EH": SECRET}, tmp_path)
    props = trigger_properties(
        spec(eventHubName="%HUB%", cardinality="MANY", dataType="STRING"), ctx
    )
    assert (props.event_hub, props.consumer_group, props.many, props.data_type) == (
        "orders",
        "$Default",
        True,
        "string",
    )
    with pytest.raises(BindingError, match="'cardinality' is 'some'; expected one or many"):
        trigger_properties(spec(cardinality="some"), ctx)


def test_entity_path_takes_precedence_over_the_configured_name(tmp_path: Path) -> None:
    ctx = context({"EH": SECRET + ";EntityPath=fromstring"}, tmp_path)
    found = event_hub_connection(spec(connection="EH"), ctx, "configured")
    assert (found.event_hub, found.namespace) == ("fromstring", "127.0.0.1:1")
    plain = event_hub_connection(spec(connection="EH"), context({"EH": SECRET}, tmp_path), "hub")
    assert plain.event_hub == "hub"


def test_connection_errors_never_show_a_key(tmp_path: Path) -> None:
    ctx = context({"BAD": "SharedAccessKey=SECRETKEY"}, tmp_path)
    cases = [
        (spec(connection=SECRET), "REDACTED"),
        (spec(connection="BAD"), "app setting 'BAD' is not an Event Hubs connection string"),
        (spec(connection="MISSING"), "connection 'MISSING' resolves to nothing"),
    ]
    for binding, expected in cases:
        with pytest.raises(BindingError) as caught:
            event_hub_connection(binding, ctx, "hub")
        assert expected in str(caught.value)
        assert "SECRETKEY" not in str(caught.value)


def test_identity_needs_a_fully_qualified_namespace(tmp_path: Path) -> None:
    ctx = context({"EH__clientId": "abc"}, tmp_path)
    with pytest.raises(BindingError, match="no EH__fullyQualifiedNamespace"):
        event_hub_connection(spec(connection="EH"), ctx, "hub")
    ok = context({"EH__fullyQualifiedNamespace": "ns.servicebus.windows.net"}, tmp_path)
    found = event_hub_connection(spec(connection="EH"), ok, "hub")
    assert found.connection.is_identity and found.namespace == "ns.servicebus.windows.net"


# --- what the function gets -----------------------------------------------------------------


def test_one_event_decodes_through_the_librarys_converter() -> None:
    event = single_event(
        received(b'{"a": 1}', 7, iothub_connection_device_id=b"dev1"), PARTITION, Shape(), {}
    )
    assert event.data.type == "bytes"
    decoded: func.EventHubEvent = converters.decode("eventHubTrigger", event.data, event.metadata)
    assert decoded.get_body() == b'{"a": 1}'
    assert (decoded.sequence_number, decoded.offset, decoded.partition_key) == (7, "700", "pk")
    assert decoded.enqueued_time is not None
    assert decoded.enqueued_time.replace(tzinfo=None) == datetime(2023, 11, 14, 22, 13, 20, 123000)
    assert decoded.iothub_metadata == {"connection-device-id": "dev1"}
    metadata = decoded.metadata
    assert metadata is not None
    assert metadata["PartitionContext"] == {
        "IsCheckpointingAfterInvocation": True,
        "FullyQualifiedNamespace": "127.0.0.1:5671",
        "EventHubName": "hub",
        "ConsumerGroup": "$Default",
        "PartitionId": "2",
    }
    assert metadata["Properties"] == {"color": "red", "n": 3}
    system = metadata["SystemProperties"]
    assert system["x-opt-enqueued-time"] == "2023-11-14T22:13:20.123Z"
    assert system["message-id"] == "m1" and system["content-type"] == "application/json"
    assert (system["SequenceNumber"], system["Offset"], system["PartitionKey"]) == (7, 700, "pk")
    assert system["EnqueuedTimeUtc"] == "2023-11-14T22:13:20.123"


def test_a_null_partition_key_is_not_sent() -> None:
    event = single_event(received(b"x", 1, key=None), PARTITION, Shape("string"), {})
    assert "PartitionKey" not in event.metadata
    assert event.data.type == "string" and event.data.value == "x"


def test_a_batch_decodes_as_a_list_with_the_array_forms() -> None:
    events = [received(b"one", 1), received(b"two", 2, key=None)]
    event = batch_event(events, PARTITION, Shape("string"), {})
    assert event.data.type == "collection_string"
    decoded: list[func.EventHubEvent] = converters.decode(
        "eventHubTrigger", event.data, event.metadata
    )
    assert [e.get_body() for e in decoded] == [b"one", b"two"]
    assert [e.sequence_number for e in decoded] == [1, 2]
    assert [e.partition_key for e in decoded] == ["pk", None]
    metadata = decoded[0].metadata
    assert metadata is not None
    assert metadata["SequenceNumberArray"] == [1, 2]
    assert metadata["PartitionKeyArray"] == ["pk"]  # nulls are left out of string arrays
    assert metadata["OffsetArray"] == ["100", "200"]
    assert metadata["EnqueuedTimeUtcArray"] == ["2023-11-14T22:13:20.123"] * 2


def test_a_binary_batch_keeps_bytes() -> None:
    event = batch_event([received(b"\xff\x00", 1)], PARTITION, Shape(), {})
    decoded = converters.decode("eventHubTrigger", event.data, event.metadata)
    assert [e.get_body() for e in decoded] == [b"\xff\x00"]


def test_the_sdk_type_is_built_by_the_extensions_converter() -> None:
    from azurefunctions.extensions.bindings.eventhub import EventData as SdkEventData
    from azurefunctions.extensions.bindings.eventhub import EventDataConverter

    mbd = model_binding_data(received(b"hello", 9))
    assert (mbd.source, mbd.content_type, mbd.version) == (
        "AzureEventHubsEventData",
        "application/octet-stream",
        "1.0",
    )
    made = EventDataConverter.decode(
        Datum(mbd, "model_binding_data"), trigger_metadata={}, pytype=SdkEventData
    )
    assert made.body_as_str() == "hello"
    assert (made.sequence_number, made.offset, made.partition_key) == (9, "900", b"pk")
    assert made.properties == {b"color": b"red", b"n": 3}
    assert made.enqueued_time == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=timezone.utc)


def test_trigger_details_as_the_extension_logs_them() -> None:
    events = [received(b"a", 1), received(b"b", 2)]
    many = trigger_details(events, "2", single=False)
    assert many["SequenceNumber"] == "1-2" and many["Count"] == "2"
    assert many["OffsetString"] == "100-200" and many["PartionId"] == "2"
    one = trigger_details(events[:1], "2", single=True)
    assert one["EnqueueTimeUtc"] == "2023-11-14T22:13:20.1230000+00:00"
    assert one["Offset"] == "100"


def test_an_admin_event_is_an_event_made_from_the_string() -> None:
    event = admin_event("hi", Shape(), many=False)
    decoded = converters.decode("eventHubTrigger", event.data, event.metadata)
    assert decoded.get_body() == b"hi"
    assert decoded.sequence_number == -(2**63)
    many = admin_event("hi", Shape("string"), many=True)
    assert [
        e.get_body() for e in converters.decode("eventHubTrigger", many.data, many.metadata)
    ] == [b"hi"]


# --- the local checkpoint store -----------------------------------------------------------


def ownership(partition: str, owner: str, etag: str | None = None) -> dict[str, Any]:
    return {
        "fully_qualified_namespace": "127.0.0.1:5671",
        "eventhub_name": "Hub",
        "consumer_group": "$Default",
        "partition_id": partition,
        "owner_id": owner,
        "etag": etag,
    }


def test_ownership_is_claimed_with_etags_like_blobs(tmp_path: Path) -> None:
    store = FileCheckpointStore(tmp_path)
    names = ("127.0.0.1:5671", "Hub", "$Default")

    async def scenario() -> None:
        first = list(await store.claim_ownership([ownership("0", "a"), ownership("1", "a")]))
        assert [o["partition_id"] for o in first] == ["0", "1"]
        # b listed nothing, so it claims without an etag: both are taken already.
        assert list(await store.claim_ownership([ownership("0", "b")])) == []
        listed = {o["partition_id"]: o for o in await store.list_ownership(*names)}
        assert listed["0"]["owner_id"] == "a" and listed["0"]["eventhub_name"] == "Hub"
        stolen = await store.claim_ownership([ownership("0", "b", listed["0"]["etag"])])
        assert [o["owner_id"] for o in stolen] == ["b"]
        # a's etag is stale now: a renewal fails, as a 412 would.
        assert list(await store.claim_ownership([ownership("0", "a", first[0]["etag"])])) == []

    asyncio.run(scenario())
    assert (tmp_path / "127.0.0.1%3A5671" / "hub" / "$default" / "ownership" / "0").is_file()


def test_checkpoints_round_trip(tmp_path: Path) -> None:
    store = FileCheckpointStore(tmp_path)
    names = ("ns", "hub", "$Default")

    async def scenario() -> list[dict[str, Any]]:
        for seq in (4, 9):
            checkpoint = dict(
                zip(
                    ("fully_qualified_namespace", "eventhub_name", "consumer_group"),
                    names,
                    strict=True,
                )
            )
            await store.update_checkpoint(
                {**checkpoint, "partition_id": "3", "offset": seq * 10, "sequence_number": seq}
            )
        return list(await store.list_checkpoints(*names))

    [checkpoint] = asyncio.run(scenario())
    assert (checkpoint["partition_id"], checkpoint["offset"], checkpoint["sequence_number"]) == (
        "3",
        "90",
        9,
    )
    stored = json.loads((tmp_path / "ns" / "hub" / "$default" / "checkpoint" / "3").read_text())
    assert stored["sequence_number"] == 9


def test_an_admin_event_for_an_sdk_type_is_model_binding_data() -> None:
    from azurefunctions.extensions.bindings.eventhub import EventData as SdkEventData
    from azurefunctions.extensions.bindings.eventhub import EventDataConverter

    event = admin_event("typed", Shape(deferred=True), many=False)
    made = EventDataConverter.decode(event.data, trigger_metadata={}, pytype=SdkEventData)
    assert made.body_as_str() == "typed"


# --- the listener's checkpoint rules, driven in-process ------------------------------------


class FakePartitionContext:
    """Stands in for the SDK's PartitionContext: records the checkpoints asked of it."""

    fully_qualified_namespace = "ns"
    eventhub_name = "hub"
    consumer_group = "$Default"
    partition_id = "0"

    def __init__(self) -> None:
        self.checkpoints: list[int] = []

    async def update_checkpoint(self, event: Any) -> None:
        self.checkpoints.append(event.sequence_number)


def listener_with_fake_dispatch(
    tmp_path: Path, dispatch: Any, frequency: int = 1, many: bool = True
) -> Any:
    from funchost.bindings.eventhubs.config import EventHubsOptions
    from funchost.bindings.eventhubs.connection import EventHubConnection
    from funchost.bindings.eventhubs.listener import EventHubTriggerConfig, EventHubTriggerListener
    from funchost.bindings.shared.connections import Connection
    from funchost.bindings.shared.hoststorage import HostStorage

    config = EventHubTriggerConfig(
        function_name="fn",
        connection=EventHubConnection(Connection("EH", "EH", SECRET), "hub", "ns"),
        consumer_group="$Default",
        many=many,
        shape=Shape(),
        options=EventHubsOptions(batch_checkpoint_frequency=frequency),
        storage=HostStorage(None, tmp_path),
    )
    return EventHubTriggerListener(config, dispatch)


def test_checkpoints_every_nth_batch_whatever_the_outcome_with_a_fake_context(
    tmp_path: Path,
) -> None:
    calls: list[int] = []

    async def dispatch(event: Any) -> Any:
        calls.append(len(event.data.value.bytes))
        raise RuntimeError("the function failed")  # checkpointed all the same

    listener = listener_with_fake_dispatch(tmp_path, dispatch, frequency=2)
    context = FakePartitionContext()

    async def scenario() -> None:
        for first in (0, 3, 6):
            await listener._on_batch(context, [received(b"x", n) for n in range(first, first + 3)])

    asyncio.run(scenario())
    assert calls == [3, 3, 3]
    assert context.checkpoints == [5]  # after the second batch; the third is not due yet


def test_a_batch_cancelled_at_the_deadline_is_not_checkpointed_with_a_fake_context(
    tmp_path: Path,
) -> None:
    started = asyncio.Event()

    async def dispatch(event: Any) -> Any:
        started.set()
        await asyncio.sleep(60)

    listener = listener_with_fake_dispatch(tmp_path, dispatch, many=False)
    context = FakePartitionContext()

    async def scenario() -> None:
        batch = asyncio.ensure_future(listener._on_batch(context, [received(b"x", 1)]))
        await started.wait()
        await listener.stop(asyncio.get_running_loop().time() + 0.1)
        await asyncio.gather(batch, return_exceptions=True)
        # A batch arriving once stopping is neither run nor checkpointed.
        await listener._on_batch(context, [received(b"y", 2)])

    asyncio.run(scenario())
    assert context.checkpoints == []
