"""A timer whose schedule monitor is on, so its state lives in AzureWebJobsStorage."""

import logging

import azure.functions as func

app = func.FunctionApp()


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True, use_monitor=True)
def yearly(timer: func.TimerRequest) -> None:
    """Runs once at start (run_on_startup); the status blob is written after the run."""
    logging.info("YEARLY RAN past_due=%s", timer.past_due)
