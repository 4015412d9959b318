"""HTTP, timer and storage functions on AzureWebJobsStorage, for a machine without Azurite.

Without the development storage, funchost serves `hello`, runs both timers on the local state
folder and disables the functions that need the storage (the queue and blob ones).
"""

import logging

import azure.functions as func

app = func.FunctionApp()


@app.route(route="hello", auth_level=func.AuthLevel.ANONYMOUS)
def hello(req: func.HttpRequest) -> func.HttpResponse:
    """Needs no storage."""
    return func.HttpResponse("hello")


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True, use_monitor=True)
def yearly(timer: func.TimerRequest) -> None:
    """Runs once at start; its status is kept where the host's state goes."""
    logging.info("YEARLY RAN past_due=%s", timer.past_due)


@app.timer_trigger(schedule="* * * * * *", arg_name="timer")
def every_second(timer: func.TimerRequest) -> None:
    """A second timer: the warning about where timers keep their state is still printed once."""
    logging.info("EVERY SECOND RAN")


@app.queue_trigger(arg_name="msg", queue_name="jobs", connection="AzureWebJobsStorage")
def on_message(msg: func.QueueMessage) -> None:
    """Needs the storage: a queue to poll."""
    logging.info("MESSAGE %s", msg.get_body().decode())


@app.route(route="enqueue", auth_level=func.AuthLevel.ANONYMOUS)
@app.queue_output(arg_name="out", queue_name="jobs", connection="AzureWebJobsStorage")
def enqueue(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
    """An HTTP function with a storage output: it cannot work without the storage."""
    out.set(req.get_body().decode())
    return func.HttpResponse("queued")


@app.blob_trigger(arg_name="blob", path="uploads/{name}", connection="AzureWebJobsStorage")
def on_blob(blob: func.InputStream) -> None:
    """Needs the storage: a container to scan, receipts and the host's blob queue."""
    logging.info("BLOB %s", blob.name)
