"""Service Bus trigger functions for the AMQP-peer tests; each test picks its own with --functions.

Entity names come from app settings (%SB_...%) and the connection from the SB setting.
"""

import asyncio
import json
import logging
import os
import time
import typing
from typing import List  # noqa: UP035 - see batch()

import azure.functions as func

app = func.FunctionApp()


def _iso(moment: typing.Any) -> typing.Any:
    return None if moment is None else moment.isoformat()


def _fields(msg: func.ServiceBusMessage) -> dict[str, typing.Any]:
    return {
        "body": msg.get_body().decode(),
        "message_id": msg.message_id,
        "delivery_count": msg.delivery_count,
        "enqueued_time_utc": _iso(msg.enqueued_time_utc),
        "expires_at_utc": _iso(msg.expires_at_utc),
        "locked_until": _iso(msg.locked_until),
        "lock_token": msg.lock_token,
        "sequence_number": msg.sequence_number,
        "content_type": msg.content_type,
        "correlation_id": msg.correlation_id,
        "reply_to": msg.reply_to,
        "reply_to_session_id": msg.reply_to_session_id,
        "session_id": msg.session_id,
        "subject": msg.subject,
        "label": msg.label,
        "to": msg.to,
        "partition_key": msg.partition_key,
        "transaction_partition_key": msg.transaction_partition_key,
        "dead_letter_source": msg.dead_letter_source,
        "time_to_live": None if msg.time_to_live is None else str(msg.time_to_live),
        "user_properties": msg.user_properties,
        "application_properties": msg.application_properties,
    }


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%SB_FIELDS%", connection="SB")
def fields(msg: func.ServiceBusMessage) -> None:
    """Logs what the function sees of its ServiceBusMessage."""
    logging.info("SBFIELDS %s", json.dumps(_fields(msg), sort_keys=True))


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%SB_TEXT%", connection="SB")
def text(msg: str) -> None:
    """Logs the body it gets as a str parameter."""
    logging.info("SBTEXT %s", msg)


@app.service_bus_queue_trigger(
    arg_name="msg", queue_name="%SB_BINARY%", connection="SB", data_type="binary"
)
def binary(msg: bytes) -> None:
    """Logs the bytes of a binary body."""
    logging.info("SBBINARY %s", msg.hex())


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%SB_FAILING%", connection="SB")
def failing(msg: func.ServiceBusMessage) -> None:
    """Fails every time."""
    logging.info("SBFAIL %s %s", msg.message_id, msg.delivery_count)
    raise RuntimeError("failing on purpose")


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%SB_SLOW%", connection="SB")
def slow(msg: func.ServiceBusMessage) -> None:
    """Runs SB_SLOW_SECONDS, longer than the lock: only renewal keeps the message."""
    logging.info("SBSLOW start %s %s", msg.message_id, msg.delivery_count)
    time.sleep(float(os.environ["SB_SLOW_SECONDS"]))
    logging.info("SBSLOW end %s", msg.message_id)


@app.service_bus_topic_trigger(
    arg_name="msg", topic_name="%SB_TOPIC%", subscription_name="%SB_SUB%", connection="SB"
)
def topic(msg: func.ServiceBusMessage) -> None:
    """Logs a message from a topic subscription."""
    logging.info("SBTOPIC %s", json.dumps(_fields(msg), sort_keys=True))


@app.service_bus_queue_trigger(
    arg_name="msgs", queue_name="%SB_BATCH%", connection="SB", cardinality="many"
)
# typing.List: the library's converters refuse list[...] (is_iterable_type_annotation).
def batch(msgs: List[func.ServiceBusMessage]) -> None:  # noqa: UP006
    """Logs a batch: its size and each message's fields."""
    logging.info("SBBATCH %s", json.dumps({"messages": [_fields(m) for m in msgs]}, sort_keys=True))


@app.service_bus_queue_trigger(
    arg_name="msg", queue_name="%SB_SESSIONS%", connection="SB", is_sessions_enabled=True
)
def sessions(msg: func.ServiceBusMessage) -> None:
    """Logs the session and body of each message, in the order they run."""
    logging.info("SBSESSION %s %s", msg.session_id, msg.get_body().decode())
    time.sleep(0.05)


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%SB_COUNT%", connection="SB")
async def count(msg: func.ServiceBusMessage) -> None:
    """Logs each message id (the SIGKILL test counts them), after SB_COUNT_DELAY seconds."""
    await asyncio.sleep(float(os.environ.get("SB_COUNT_DELAY", "0")))
    logging.info("SBCOUNT %s", msg.message_id)
