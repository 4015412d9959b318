"""A warmup function that counts its runs, and an HTTP function that reports the count."""

import logging
import threading

import azure.functions as func
from azure.functions.warmup import WarmUpContext

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

runs = 0
lock = threading.Lock()


@app.warm_up_trigger(arg_name="warmupContext")
def warmup(warmupContext: WarmUpContext) -> None:
    """Counts how often the host warmed the app up."""
    global runs
    with lock:
        runs += 1
        count = runs
    logging.info("WARMUP run %d with %s", count, type(warmupContext).__name__)


@app.route(route="runs")
def warm_runs(req: func.HttpRequest) -> str:
    """How many times warmup has run so far."""
    return str(runs)
