"""Queue functions for the Azurite tests; each test picks its own with --functions.

Queue names come from app settings (%Q_...%), so every test uses queues of its own.
"""

import asyncio
import json
import logging
import random
import typing

import azure.functions as func

app = func.FunctionApp()
running = 0  # invocations of `slow` in progress (async: one event loop, no lock needed)


def _iso(moment: typing.Any) -> typing.Any:
    return None if moment is None else moment.isoformat()


@app.queue_trigger(arg_name="msg", queue_name="%Q_FIELDS%", connection="AzureWebJobsStorage")
def fields(msg: func.QueueMessage) -> None:
    """Logs what the function sees of its QueueMessage."""
    doc = {
        "id": msg.id,
        "body": msg.get_body().decode(),
        "json": msg.get_json() if msg.get_body().startswith(b"{") else None,
        "dequeue_count": msg.dequeue_count,
        "insertion_time": _iso(msg.insertion_time),
        "expiration_time": _iso(msg.expiration_time),
        "time_next_visible": _iso(msg.time_next_visible),
        "pop_receipt": msg.pop_receipt,
    }
    logging.info("FIELDS %s", json.dumps(doc, sort_keys=True))


@app.queue_trigger(
    arg_name="msg", queue_name="%Q_BINARY%", connection="AzureWebJobsStorage", data_type="binary"
)
def binary(msg: func.QueueMessage) -> None:
    """data_type binary: the body arrives as bytes, whatever they are."""
    logging.info("BINARY %s", msg.get_body().hex())


@app.queue_trigger(arg_name="msg", queue_name="%Q_FAIL%", connection="AzureWebJobsStorage")
def failing(msg: func.QueueMessage) -> None:
    """Always fails: the message goes to <queue>-poison after maxDequeueCount attempts."""
    logging.info("ATTEMPT %s %s", msg.get_body().decode(), msg.dequeue_count)
    raise RuntimeError("this function always fails")


@app.queue_trigger(arg_name="msg", queue_name="%Q_SLOW%", connection="AzureWebJobsStorage")
async def slow(msg: func.QueueMessage) -> None:
    """Sleeps as many seconds as the body says, counting the invocations running at once."""
    global running
    running += 1
    logging.info("SLOW start %s running=%d", msg.get_body().decode(), running)
    try:
        await asyncio.sleep(float(msg.get_body().decode().split()[-1]))
    finally:
        running -= 1
    logging.info("SLOW end %s", msg.get_body().decode())


@app.queue_trigger(arg_name="msg", queue_name="%Q_LOST%", connection="AzureWebJobsStorage")
async def steady(msg: func.QueueMessage) -> None:
    """About 50 ms of work per message (30-70 ms), logged when it starts and when it is done."""
    logging.info("START %s", msg.get_body().decode())
    await asyncio.sleep(0.03 + 0.04 * random.random())
    logging.info("DONE %s", msg.get_body().decode())


@app.queue_trigger(arg_name="msg", queue_name="%Q_OUT%", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="text", queue_name="%Q_OUT%-str", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="many", queue_name="%Q_OUT%-list", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="doc", queue_name="%Q_OUT%-json", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="raw", queue_name="%Q_OUT%-bytes", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="$return", queue_name="%Q_OUT%-ret", connection="AzureWebJobsStorage")
def outputs(
    msg: func.QueueMessage,
    text: func.Out[str],
    # typing.List: the library's queue converter refuses list[str] (so does the worker).
    many: func.Out[typing.List[str]],  # noqa: UP006
    doc: func.Out[str],
    raw: func.Out[bytes],
) -> str:
    """Sets every output; a body starting with 'fail' raises after setting them."""
    body = msg.get_body().decode()
    text.set(f"text {body}")
    many.set([f"one {body}", f"two {body}"])
    doc.set(json.dumps({"body": body, "n": 1}))
    raw.set(b"\x00\xffraw " + body.encode())
    if body.startswith("fail"):
        raise RuntimeError("failed after setting the outputs")
    return f"return {body}"


@app.queue_trigger(arg_name="msg", queue_name="%Q_ROUTE%", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="copy", queue_name="{queueTrigger}-copy", connection="")
@app.queue_output(arg_name="by_id", queue_name="%Q_ROUTE%-{DequeueCount}", connection="")
def routed(msg: func.QueueMessage, copy: func.Out[str], by_id: func.Out[str]) -> None:
    """Output queue names from binding expressions: the message body and its dequeue count."""
    copy.set(f"copy of {msg.get_body().decode()}")
    by_id.set(msg.id)


@app.queue_trigger(arg_name="msg", queue_name="%Q_IDLE%", connection="AzureWebJobsStorage")
def idle(msg: func.QueueMessage) -> None:
    """Polls a queue that stays empty, until the test sends one message."""
    logging.info("IDLE got %s", msg.get_body().decode())
