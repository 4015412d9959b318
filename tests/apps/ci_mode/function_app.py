"""CI mode: an import that takes a while, an HTTP function, a timer and a queue function."""

import logging
import os
import time

import azure.functions as func

print("ci_mode: importing", flush=True)
# The ready file must not appear while this runs.
time.sleep(float(os.environ.get("CI_MODE_IMPORT_DELAY", "0")))

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello", methods=["GET", "POST"])
def hello(req: func.HttpRequest) -> str:
    return f"hello {req.get_body().decode() or 'nobody'}"


@app.route(route="broken")
def broken(req: func.HttpRequest) -> str:
    raise RuntimeError("broken on purpose")


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", use_monitor=False)
def tick(timer: func.TimerRequest) -> None:
    logging.info("TICK ran")


@app.queue_trigger(arg_name="msg", queue_name="ci-in", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="out", queue_name="ci-out", connection="AzureWebJobsStorage")
def shout(msg: func.QueueMessage, out: func.Out[str]) -> None:
    out.set(msg.get_body().decode().upper())
