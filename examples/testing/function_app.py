"""A small app with an HTTP API, a queue and a timer; tests/test_app.py tests it with funchost."""

import json
import logging
import math

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    name = req.params.get("name", "world")
    return func.HttpResponse(f"Hello, {name}!")


@app.route(route="orders", methods=["POST"])
@app.queue_output(arg_name="order", queue_name="orders", connection="AzureWebJobsStorage")
def place_order(req: func.HttpRequest, order: func.Out[str]) -> func.HttpResponse:
    """Accepts {"item": ..., "quantity": n} and queues it for shipping."""
    try:
        body = req.get_json()
    except ValueError:
        return func.HttpResponse("expected a JSON body", status_code=400)
    if not isinstance(body, dict) or not body.get("item"):
        return func.HttpResponse('expected {"item": ..., "quantity": n}', status_code=400)
    order.set(json.dumps({"item": body["item"], "quantity": int(body.get("quantity", 1))}))
    return func.HttpResponse(status_code=202)


@app.queue_trigger(arg_name="msg", queue_name="orders", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="$return", queue_name="shipments", connection="AzureWebJobsStorage")
def ship_order(msg: func.QueueMessage) -> str:
    """Packs an order in boxes of ten."""
    order = msg.get_json()
    return json.dumps({"item": order["item"], "boxes": math.ceil(order["quantity"] / 10)})


@app.timer_trigger(schedule="0 0 3 * * *", arg_name="timer")
def nightly(timer: func.TimerRequest) -> None:
    logging.info("Nightly clean-up ran (past due: %s).", timer.past_due)
