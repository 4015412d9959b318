"""Event Hubs functions whose configuration the host refuses, beside one it accepts."""

import azure.functions as func

app = func.FunctionApp()


@app.event_hub_message_trigger(arg_name="event", event_hub_name="hub", connection="NOWHERE")
def unconnected(event: func.EventHubEvent) -> None:
    """Its connection names no setting."""


@app.event_hub_message_trigger(arg_name="event", event_hub_name="hub", connection="BAD")
def not_event_hubs(event: func.EventHubEvent) -> None:
    """Its connection setting holds something else than an Event Hubs connection string."""


@app.event_hub_message_trigger(
    arg_name="event", event_hub_name="hub", connection="EH", consumer_group="%GROUP%"
)
def unset_group(event: func.EventHubEvent) -> None:
    """Its consumer group names an app setting that is not set."""


@app.route(route="ok")
def ok(req: func.HttpRequest) -> str:
    """Still served."""
    return "ok"
