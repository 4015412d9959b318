"""Blob input and output bindings, driven over HTTP and by a queue message.

Container names come from app settings (%B_...%), so every test uses containers of its own.
"""

import json
import logging

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="read/{name}", methods=["GET"])
@app.blob_input(
    arg_name="text", path="%B_IO%/{name}", connection="AzureWebJobsStorage", data_type="string"
)
@app.blob_input(
    arg_name="raw", path="%B_IO%/{name}", connection="AzureWebJobsStorage", data_type="binary"
)
@app.blob_input(arg_name="stream", path="%B_IO%/{name}", connection="AzureWebJobsStorage")
def read(
    req: func.HttpRequest, text: str | None, raw: bytes, stream: func.InputStream
) -> func.HttpResponse:
    """The same blob three ways: text, bytes and a stream; None for each when it is missing."""
    doc = {
        "text": text,
        "text_type": type(text).__name__,
        "raw": None if raw is None else raw.hex(),
        "raw_type": type(raw).__name__,
        "stream": None if stream is None else stream.read().hex(),
        "stream_type": type(stream).__name__,
    }
    return func.HttpResponse(json.dumps(doc), mimetype="application/json")


@app.route(route="write/{name}", methods=["POST"])
@app.blob_output(arg_name="text", path="%B_IO%/text/{name}", connection="AzureWebJobsStorage")
@app.blob_output(
    arg_name="raw", path="%B_NEW%/raw/{name}", connection="AzureWebJobsStorage", data_type="binary"
)
@app.blob_output(
    arg_name="unique", path="%B_IO%/unique/{rand-guid}.txt", connection="AzureWebJobsStorage"
)
def write(
    req: func.HttpRequest, text: func.Out[str], raw: func.Out[bytes], unique: func.Out[str]
) -> str:
    """Writes the body as text, reversed as bytes (to a container that does not exist yet),
    and to a blob named by a new GUID."""
    body = req.get_body()
    text.set(body.decode())
    raw.set(body[::-1])
    unique.set("unique")
    return "written"


@app.route(route="skip/{name}", methods=["POST"])
@app.blob_output(arg_name="text", path="%B_IO%/skipped/{name}", connection="AzureWebJobsStorage")
def skip(req: func.HttpRequest, text: func.Out[str]) -> str:
    """Never sets its output: nothing is written."""
    return "skipped"


@app.queue_trigger(arg_name="msg", queue_name="%B_QUEUE%", connection="AzureWebJobsStorage")
@app.blob_input(
    arg_name="source",
    path="%B_IO%/{queueTrigger}",
    connection="AzureWebJobsStorage",
    data_type="string",
)
@app.blob_output(
    arg_name="copy", path="%B_IO%/copies/{queueTrigger}", connection="AzureWebJobsStorage"
)
def copy_named(msg: func.QueueMessage, source: str | None, copy: func.Out[str]) -> None:
    """A queue message names a blob: it is read, and copied with a '!' added."""
    logging.info("COPY %s", json.dumps({"message": msg.get_body().decode(), "source": source}))
    if source is not None:
        copy.set(source + "!")
