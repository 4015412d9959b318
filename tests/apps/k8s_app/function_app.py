"""An app with one trigger of each kind `funchost deploy kubernetes` turns into a scaler."""

import logging

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="orders", methods=["POST"])
@app.queue_output(arg_name="out", queue_name="orders", connection="AzureWebJobsStorage")
def take_order(req: func.HttpRequest, out: func.Out[str]) -> str:
    out.set(req.get_body().decode())
    return "accepted"


@app.queue_trigger(arg_name="msg", queue_name="%ORDERS_QUEUE%", connection="AzureWebJobsStorage")
def process_order(msg: func.QueueMessage) -> None:
    logging.info("order %s", msg.get_body())


@app.service_bus_queue_trigger(arg_name="msg", queue_name="invoices", connection="ServiceBus")
def invoice(msg: func.ServiceBusMessage) -> None:
    logging.info("invoice %s", msg.get_body())


@app.service_bus_topic_trigger(
    arg_name="msg", topic_name="events", subscription_name="audit", connection="ServiceBus"
)
def audit(msg: func.ServiceBusMessage) -> None:
    logging.info("audit %s", msg.get_body())


@app.event_hub_message_trigger(
    arg_name="event", event_hub_name="telemetry", connection="EventHubs", consumer_group="k8s"
)
def telemetry(event: func.EventHubEvent) -> None:
    logging.info("telemetry %s", event.get_body())


@app.timer_trigger(schedule="0 0 3 * * *", arg_name="timer", use_monitor=False)
def nightly(timer: func.TimerRequest) -> None:
    logging.info("nightly")
