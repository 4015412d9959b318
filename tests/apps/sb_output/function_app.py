"""Service Bus outputs for the AMQP-peer tests: queue and topic, from HTTP and from a trigger."""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="to_queue", methods=["POST"])
@app.service_bus_queue_output(arg_name="out", queue_name="%SB_OUT%", connection="SB")
def to_queue(req: func.HttpRequest, out: func.Out[str]) -> str:
    """Sends the request body as it is (a JSON array: one message per element)."""
    out.set(req.get_body().decode())
    return "sent"


@app.route(route="to_queue_bytes", methods=["POST"])
@app.service_bus_queue_output(arg_name="out", queue_name="%SB_OUT%", connection="SB")
def to_queue_bytes(req: func.HttpRequest, out: func.Out[bytes]) -> str:
    """Sends the request body as bytes."""
    out.set(req.get_body())
    return "sent"


@app.route(route="to_topic", methods=["POST"])
@app.service_bus_topic_output(arg_name="out", topic_name="%SB_OUT_TOPIC%", connection="SB")
def to_topic(req: func.HttpRequest, out: func.Out[str]) -> str:
    """Sends the request body to a topic."""
    out.set(req.get_body().decode())
    return "sent"


@app.route(route="fails_after_set", methods=["POST"])
@app.service_bus_queue_output(arg_name="out", queue_name="%SB_OUT%", connection="SB")
def fails_after_set(req: func.HttpRequest, out: func.Out[str]) -> str:
    """Sets the output, then fails: nothing may be sent."""
    out.set("never")
    raise RuntimeError("failing after set")


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%SB_IN%", connection="SB")
@app.service_bus_queue_output(arg_name="$return", queue_name="%SB_OUT%", connection="SB")
def relay(msg: func.ServiceBusMessage) -> str:
    """Forwards each message's body, upper-cased, with the id it came with."""
    return json.dumps({"from": msg.message_id, "body": msg.get_body().decode().upper()})
