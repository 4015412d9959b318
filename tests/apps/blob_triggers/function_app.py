"""Blob-triggered functions for the Azurite tests; each test picks its own with --functions.

Container names come from app settings (%B_...%), so every test watches containers of its own.
"""

import json
import logging
import os

import azure.functions as func

app = func.FunctionApp()


def seen(blob: func.InputStream) -> str:
    """What the function sees of its InputStream, as one JSON document."""
    properties = blob.blob_properties or {}
    doc = {
        "name": blob.name,
        "length": blob.length,
        "uri": blob.uri,
        "content": blob.read().decode(),
        "content_type": properties.get("ContentType"),
        "etag": properties.get("ETag"),
        "last_modified": properties.get("LastModified"),
        "metadata": blob.metadata,
        "pid": os.getpid(),
    }
    return json.dumps(doc, sort_keys=True)


@app.blob_trigger(arg_name="blob", path="%B_IN%/{name}.txt", connection="AzureWebJobsStorage")
@app.blob_output(arg_name="copy", path="%B_OUT%/{name}-copy.txt", connection="AzureWebJobsStorage")
def on_blob(blob: func.InputStream, copy: func.Out[str], context: func.Context) -> None:
    """Fires for <in>/*.txt; copies the content, upper-cased, to <out>/<name>-copy.txt."""
    text = seen(blob)
    logging.info("BLOB %s", text)
    copy.set(json.loads(text)["content"].upper())


@app.blob_trigger(arg_name="blob", path="%B_FAIL%/{name}", connection="AzureWebJobsStorage")
def failing(blob: func.InputStream) -> None:
    """Always fails: after poisonBlobThreshold attempts its message goes to the poison queue."""
    logging.info("ATTEMPT %s", blob.name)
    raise RuntimeError("this blob function always fails")


@app.blob_trigger(
    arg_name="blob",
    path="%B_NESTED%/in/{folder}/{name}.{ext}",
    connection="AzureWebJobsStorage",
    data_type="binary",
)
@app.blob_output(
    arg_name="out", path="%B_OUT%/{folder}/{name}.{ext}.out", connection="AzureWebJobsStorage"
)
def folders(blob: bytes, out: func.Out[bytes], context: func.Context) -> None:
    """Captures three values of the path; writes the bytes reversed to a path built from them."""
    logging.info("NESTED %s", json.dumps({"type": type(blob).__name__, "size": len(blob)}))
    out.set(blob[::-1])


@app.blob_trigger(
    arg_name="text", path="%B_STR%/{name}", connection="AzureWebJobsStorage", data_type="string"
)
def as_text(text: str) -> None:
    """data_type string and a str parameter: the content as text."""
    logging.info("TEXT %s", json.dumps({"type": type(text).__name__, "text": text}))


@app.blob_trigger(
    arg_name="blob", path="%B_EG%/{name}", connection="AzureWebJobsStorage", source="EventGrid"
)
def from_event_grid(blob: func.InputStream) -> None:
    """source EventGrid: runs for the blobs Event Grid reports, and is never scanned for."""
    logging.info("EVENTGRID %s", seen(blob))
