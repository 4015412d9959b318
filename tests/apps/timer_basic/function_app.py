"""Timer functions for the real-clock tests; each test picks its own with --functions."""

import json
import logging
import time
from datetime import datetime, timezone

import azure.functions as func

app = func.FunctionApp()


def seen(timer: func.TimerRequest) -> str:
    """What the function sees of its TimerRequest, as one JSON document."""
    doc = {
        "past_due": timer.past_due,
        "schedule": timer.schedule,
        "schedule_status": timer.schedule_status,
        "at": datetime.now(timezone.utc).isoformat(),
    }
    return json.dumps(doc, sort_keys=True)


@app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer")
def every_second(timer: func.TimerRequest) -> None:
    """Fires every second (the monitor is off for schedules that frequent)."""
    logging.info("TICK %s", seen(timer))


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer")
def yearly(timer: func.TimerRequest) -> None:
    """Midnight on January 1st: only the admin API runs it during a test."""
    logging.info("YEARLY %s", seen(timer))


@app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer")
def slow(timer: func.TimerRequest) -> None:
    """Takes 2.5 s on a 1 s schedule: runs must not overlap."""
    logging.info("SLOW start %.3f", time.time())
    time.sleep(2.5)
    logging.info("SLOW end %.3f", time.time())


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True)
@app.retry(strategy="fixed_delay", max_retry_count="3", delay_interval="00:00:01")
def flaky(timer: func.TimerRequest, context: func.Context) -> None:
    """Runs at start, fails twice, then succeeds on the second retry."""
    retry = context.retry_context
    logging.info(
        "RETRY retry_count=%d max_retry_count=%d", retry.retry_count, retry.max_retry_count
    )
    if retry.retry_count < 2:
        raise RuntimeError(f"failure {retry.retry_count}")
