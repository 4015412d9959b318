"""Event Hubs functions for the tests; each test picks its own with --functions.

Hub names come from app settings (%HUB_...%), the connection from EH.
"""

import json
import logging
import typing

import azure.functions as func
import azurefunctions.extensions.bindings.eventhub as eh

app = func.FunctionApp()


@app.event_hub_message_trigger(arg_name="event", event_hub_name="%HUB_ONE%", connection="EH")
def one(event: func.EventHubEvent) -> None:
    """Logs what the function sees of its EventHubEvent."""
    metadata = event.metadata or {}
    doc = {
        "body": event.get_body().decode(),
        "partition_key": event.partition_key,
        "sequence_number": event.sequence_number,
        "offset": event.offset,
        "enqueued_time": None if event.enqueued_time is None else event.enqueued_time.isoformat(),
        "iothub": event.iothub_metadata,
        "properties": metadata.get("Properties"),
        "partition": (metadata.get("PartitionContext") or {}).get("PartitionId"),
        "system": sorted((metadata.get("SystemProperties") or {}).keys()),
    }
    logging.info("ONE %s", json.dumps(doc, sort_keys=True))


@app.event_hub_message_trigger(arg_name="event", event_hub_name="%HUB_SDK%", connection="EH")
def sdk(event: eh.EventData) -> None:
    """The SDK's EventData, built by the extension's converter."""
    logging.info("SDK %s %s %s", type(event).__name__, event.sequence_number, event.body_as_str())


@app.retry(strategy="fixed_delay", max_retry_count="2", delay_interval="00:00:00")
@app.event_hub_message_trigger(arg_name="event", event_hub_name="%HUB_RETRY%", connection="EH")
def retried(event: func.EventHubEvent, context: func.Context) -> None:
    """Fails every attempt at events whose body starts with 'fail'."""
    body = event.get_body().decode()
    logging.info("ATTEMPT %s %s", body, context.retry_context.retry_count)
    if body.startswith("fail"):
        raise RuntimeError(f"failing {body}")


@app.event_hub_message_trigger(
    arg_name="events",
    event_hub_name="%HUB_IN%",
    connection="EH",
    cardinality="many",
    data_type="string",
)
@app.event_hub_output(arg_name="out", event_hub_name="%HUB_OUT%", connection="EH")
def relay(
    events: typing.List[func.EventHubEvent],  # noqa: UP006 (the library needs typing.List)
    out: func.Out[typing.List[str]],  # noqa: UP006
) -> None:
    """Sends each event on, upper-cased, as one list."""
    out.set([e.get_body().decode().upper() for e in events])
    logging.info("RELAYED %d", len(events))
