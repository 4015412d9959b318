"""Parameters annotated str or bytes: the data as the host sent it, for every binding type.

Each function logs ``<TAG> {"type": ..., "value": ...}``; queue and container names come from
app settings (%Q_...%, %B_...%), so every test uses its own. Each trigger appears twice: with
its own decorator and with @app.generic_trigger, which gives the same function.json.
"""

import json
import logging
from typing import Any

import azure.functions as func

app = func.FunctionApp()
STORAGE = "AzureWebJobsStorage"


def log(tag: str, value: Any) -> None:
    """One line a test can parse: the Python type the function got and the value."""
    shown = value.hex() if isinstance(value, bytes) else value
    logging.info("%s %s", tag, json.dumps({"type": type(value).__name__, "value": shown}))


@app.queue_trigger(arg_name="msg", queue_name="%Q_STR%", connection=STORAGE)
def queue_str(msg: str) -> None:
    log("QUEUE_STR", msg)


@app.generic_trigger(arg_name="msg", type="queueTrigger", queue_name="%Q_GSTR%", connection=STORAGE)
def generic_queue_str(msg: str) -> None:
    log("GENERIC_QUEUE_STR", msg)


@app.queue_trigger(arg_name="msg", queue_name="%Q_BYTES%", connection=STORAGE, data_type="binary")
def queue_bytes(msg: bytes) -> None:
    log("QUEUE_BYTES", msg)


@app.generic_trigger(
    arg_name="msg",
    type="queueTrigger",
    queue_name="%Q_GBYTES%",
    connection=STORAGE,
    data_type=func.DataType.BINARY,
)
@app.generic_output_binding(
    arg_name="copy", type="queue", queue_name="%Q_GBYTES%-copy", connection=STORAGE
)
def generic_queue_bytes(msg: bytes, copy: func.Out[bytes]) -> None:
    """The output is bytes too: it is written as it was set, byte for byte."""
    log("GENERIC_QUEUE_BYTES", msg)
    copy.set(msg[::-1])


@app.queue_trigger(arg_name="msg", queue_name="%Q_UNTYPED%", connection=STORAGE)
def queue_bytes_untyped(msg: bytes) -> None:
    """No data_type: the host sends the message as text, and the worker passes it as sent."""
    log("QUEUE_UNTYPED", msg)


@app.blob_trigger(arg_name="blob", path="%B_STR%/{name}", connection=STORAGE, data_type="string")
def blob_str(blob: str) -> None:
    log("BLOB_STR", blob)


@app.generic_trigger(
    arg_name="blob", type="blobTrigger", path="%B_GBYTES%/{name}", connection=STORAGE
)
def generic_blob_bytes(blob: bytes) -> None:
    """No data_type: a blob's content is sent as bytes."""
    log("GENERIC_BLOB_BYTES", blob)
