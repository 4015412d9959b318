"""One function per trigger for the fault suite; each writes what it runs to one file.

``FAULT_LOG`` names the file: ``START <id>`` when an invocation begins and ``DONE <id>`` when
it ends, one ``os.write`` on an O_APPEND descriptor per line, so lines from concurrent
invocations never interleave and a killed host loses none it wrote. ``FAULT_DELAY`` (seconds
per item) keeps items in flight long enough for a test to kill or stop the host mid-way.
Entity names come from app settings, so each test uses its own. An id that starts with ``{``
is read as JSON, so a broken document fails its invocation (the poison tests).
"""

import asyncio
import json
import os
import typing

import azure.functions as func

app = func.FunctionApp()


def _record(word: str, ids: typing.Iterable[str]) -> None:
    text = "".join(f"{word} {item}\n" for item in ids)
    fd = os.open(os.environ["FAULT_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


async def _run(ids: typing.List[str]) -> None:  # noqa: UP006
    _record("START", ids)
    await asyncio.sleep(float(os.environ.get("FAULT_DELAY", "0")) * len(ids))
    for item in ids:
        if item.startswith("{"):  # a JSON document: read as the function's data (may raise)
            json.loads(item)
    _record("DONE", ids)


@app.queue_trigger(arg_name="msg", queue_name="%F_QUEUE%", connection="AzureWebJobsStorage")
async def queue(msg: func.QueueMessage) -> None:
    await _run([msg.get_body().decode()])


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%F_SB%", connection="SB")
async def servicebus(msg: func.ServiceBusMessage) -> None:
    await _run([msg.get_body().decode()])


@app.event_hub_message_trigger(
    arg_name="events", event_hub_name="%F_HUB%", connection="EH", cardinality="many"
)
async def eventhub(events: typing.List[func.EventHubEvent]) -> None:  # noqa: UP006
    await _run([event.get_body().decode() for event in events])


@app.blob_trigger(arg_name="blob", path="%F_CONTAINER%/{name}", connection="AzureWebJobsStorage")
async def blob(blob: func.InputStream) -> None:
    await _run([blob.name.rsplit("/", 1)[1]])


@app.route(route="ping", auth_level=func.AuthLevel.ANONYMOUS)
def ping(req: func.HttpRequest) -> str:
    """The HTTP side, polled while a dependency is down."""
    return "pong"


@app.route(route="aping", auth_level=func.AuthLevel.ANONYMOUS)
async def aping(req: func.HttpRequest) -> str:
    """The async side of the load test's HTTP mix."""
    await asyncio.sleep(0)
    return "pong"
