"""Two timers and a queue function that outlast any shutdown timeout, to be caught by SIGTERM."""

import asyncio
import logging

import azure.functions as func

app = func.FunctionApp()

# Never due on its own: each timer runs once, at start-up, and then waits.
NEVER = "0 0 0 1 1 *"


@app.timer_trigger(arg_name="timer", schedule=NEVER, run_on_startup=True, use_monitor=False)
async def first_timer(timer: func.TimerRequest) -> None:
    logging.info("started first_timer")
    await asyncio.sleep(60)


@app.timer_trigger(arg_name="timer", schedule=NEVER, run_on_startup=True, use_monitor=False)
async def second_timer(timer: func.TimerRequest) -> None:
    logging.info("started second_timer")
    await asyncio.sleep(60)


@app.queue_trigger(arg_name="msg", queue_name="%Q_SLOW%", connection="AzureWebJobsStorage")
async def slow_queue(msg: func.QueueMessage) -> None:
    logging.info("started slow_queue %s", msg.get_body().decode())
    await asyncio.sleep(60)
