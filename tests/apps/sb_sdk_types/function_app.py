"""A trigger parameter typed with the SDK's ServiceBusReceivedMessage (the extension package)."""

import json
import logging

import azure.functions as func
import azurefunctions.extensions.bindings.servicebus as servicebus

app = func.FunctionApp()


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%SB_SDK%", connection="SB")
def sdk(msg: servicebus.ServiceBusReceivedMessage) -> None:
    """Logs what the SDK object holds."""
    doc = {
        "type": type(msg).__module__ + "." + type(msg).__name__,
        "body": str(msg),
        "message_id": msg.message_id,
        "lock_token": str(msg.lock_token),
        "sequence_number": msg.sequence_number,
        "enqueued_time_utc": msg.enqueued_time_utc.isoformat(),
        "application_properties": {
            k.decode(): v.decode() if isinstance(v, bytes) else v
            for k, v in (msg.application_properties or {}).items()
        },
        "content_type": msg.content_type,
    }
    logging.info("SBSDK %s", json.dumps(doc, sort_keys=True))


@app.service_bus_queue_trigger(
    arg_name="msgs", queue_name="%SB_SDK_BATCH%", connection="SB", cardinality="many"
)
def sdk_batch(msgs: list[servicebus.ServiceBusReceivedMessage]) -> None:
    """Logs the bodies of a batch of SDK objects."""
    logging.info("SBSDKBATCH %s", json.dumps([str(m) for m in msgs]))
