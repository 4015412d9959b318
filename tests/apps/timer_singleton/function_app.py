"""One timer every second, run by two hosts at once: each occurrence must run in one only."""

import logging
from datetime import datetime, timezone

import azure.functions as func

app = func.FunctionApp()


@app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer")
def every_second(timer: func.TimerRequest) -> None:
    """Logs the occurrence (the current second, rounded) it runs for."""
    now = datetime.now(timezone.utc).timestamp()
    logging.info("OCCURRENCE %d", round(now))
