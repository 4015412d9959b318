"""Event Grid output: events in both schemas, one or many, and the ways publishing fails.

Topic endpoints and keys come from app settings (GRID_TOPIC_*, CLOUD_TOPIC_*), as the
extension reads them: the binding names the settings, never the values.
"""

import datetime
import json
import typing

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def grid_event(event_id: str, data: object) -> func.EventGridOutputEvent:
    return func.EventGridOutputEvent(
        id=event_id,
        data=data,
        subject=f"orders/{event_id}",
        event_type="Contoso.Order.Created",
        event_time=WHEN,
        data_version="1.0",
    )


@app.route(route="grid/{id}")
@app.event_grid_output(
    arg_name="out", topic_endpoint_uri="GRID_TOPIC_URI", topic_key_setting="GRID_TOPIC_KEY"
)
def grid_one(req: func.HttpRequest, out: func.Out[func.EventGridOutputEvent]) -> str:
    """One func.EventGridOutputEvent (the library's converter makes its JSON)."""
    out.set(grid_event(req.route_params["id"], {"amount": 3}))
    return "sent"


@app.route(route="grid-many")
@app.event_grid_output(
    arg_name="out", topic_endpoint_uri="GRID_TOPIC_URI", topic_key_setting="GRID_TOPIC_KEY"
)
def grid_many(
    req: func.HttpRequest,
    out: func.Out[typing.List[func.EventGridOutputEvent]],  # noqa: UP006
) -> str:
    """A list of events: one request to the topic (the library's converter wants typing.List)."""
    out.set([grid_event("m1", {"n": 1}), grid_event("m2", {"n": 2})])
    return "sent"


@app.route(route="cloud/{id}")
@app.event_grid_output(
    arg_name="out", topic_endpoint_uri="CLOUD_TOPIC_URI", topic_key_setting="CLOUD_TOPIC_KEY"
)
def cloud(req: func.HttpRequest, out: func.Out[str]) -> str:
    """A CloudEvent as JSON text: the schema is told by its properties."""
    event = {
        "specversion": "1.0",
        "id": req.route_params["id"],
        "source": "/funchost/tests",
        "type": "Contoso.Item.Shipped",
        "time": "2026-01-02T03:04:05Z",
        "data": {"item": "book"},
    }
    out.set(json.dumps(event))
    return "sent"


@app.route(route="mixed")
@app.event_grid_output(
    arg_name="out", topic_endpoint_uri="GRID_TOPIC_URI", topic_key_setting="GRID_TOPIC_KEY"
)
def mixed(req: func.HttpRequest, out: func.Out[str]) -> str:
    """An Event Grid event then something in no schema: nothing is sent."""
    first = {"id": "x1", "subject": "s", "eventType": "t", "dataVersion": "1", "data": {}}
    out.set(json.dumps([first, {"id": "x2", "data": {}}]))
    return "sent"


@app.route(route="fails")
@app.event_grid_output(
    arg_name="out", topic_endpoint_uri="GRID_TOPIC_URI", topic_key_setting="GRID_TOPIC_KEY"
)
def fails(req: func.HttpRequest, out: func.Out[func.EventGridOutputEvent]) -> str:
    """Sets an event, then fails: outputs are written only after success."""
    out.set(grid_event("never", {}))
    raise RuntimeError("failed after setting the output")


@app.route(route="wrong-key")
@app.event_grid_output(
    arg_name="out", topic_endpoint_uri="GRID_TOPIC_URI", topic_key_setting="WRONG_TOPIC_KEY"
)
def wrong_key(req: func.HttpRequest, out: func.Out[func.EventGridOutputEvent]) -> str:
    """The topic refuses a key that is not its own."""
    out.set(grid_event("refused", {}))
    return "sent"


@app.route(route="to-webhook")
@app.event_grid_output(
    arg_name="out", topic_endpoint_uri="WEBHOOK_URI", topic_key_setting="GRID_TOPIC_KEY"
)
def to_webhook(req: func.HttpRequest, out: func.Out[func.EventGridOutputEvent]) -> str:
    """Publishing straight to a trigger's webhook, as if it were a topic."""
    out.set(grid_event("direct", {}))
    return "sent"


@app.route(route="unset")
@app.event_grid_output(
    arg_name="out", topic_endpoint_uri="GRID_TOPIC_URI", topic_key_setting="UNSET_TOPIC_KEY"
)
def unset(req: func.HttpRequest, out: func.Out[str]) -> str:
    """Its key setting is not set: the function is disabled at load."""
    return "never"
