"""Event Grid functions: one logs what it received, in both schemas; one fails on request."""

import json
import logging

import azure.functions as func

app = func.FunctionApp()


def fields(event: func.EventGridEvent | func.CloudEvent) -> dict[str, object]:
    """What the function sees of the event, for the test to compare."""
    seen: dict[str, object] = {"class": type(event).__name__, "id": event.id}
    seen["data"] = event.get_json()
    if isinstance(event, func.EventGridEvent):
        seen["topic"] = event.topic
        seen["subject"] = event.subject
        seen["event_type"] = event.event_type
        seen["event_time"] = event.event_time.isoformat() if event.event_time else None
        seen["data_version"] = event.data_version
    else:
        seen["source"] = event.source
        seen["type"] = event.type
        seen["specversion"] = event.specversion
        seen["time"] = event.time.isoformat() if event.time else None
    return seen


@app.event_grid_trigger(arg_name="event")
def eg_record(event: func.EventGridEvent) -> None:
    """Logs the decoded event as one JSON line; fails when its data says so."""
    logging.info("EVENT %s", json.dumps(fields(event), sort_keys=True))
    data = event.get_json()
    if isinstance(data, dict) and data.get("fail"):
        raise RuntimeError(f"asked to fail: {event.id}")


@app.event_grid_trigger(arg_name="event")
async def eg_async(event: func.EventGridEvent, context: func.Context) -> None:
    """An async function with context; logs the event id and its invocation id."""
    logging.info("ASYNC %s %s", event.id, context.invocation_id)


@app.route(route="ping", auth_level=func.AuthLevel.ANONYMOUS)
def ping(req: func.HttpRequest) -> str:
    """HTTP next to Event Grid: both are served by the same server."""
    return "pong"
