"""A monitored timer (every two minutes) whose missed occurrence runs once after a restart."""

import json
import logging

import azure.functions as func

app = func.FunctionApp()


@app.timer_trigger(schedule="0 */2 * * * *", arg_name="timer")
def every_two_minutes(timer: func.TimerRequest) -> None:
    """Logs whether this run is past due, with the status the host passed."""
    status = json.dumps(timer.schedule_status, sort_keys=True)
    logging.info("PASTDUE past_due=%s status=%s", timer.past_due, status)
