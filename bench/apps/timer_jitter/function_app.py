"""Benchmark subject: a one-second timer beside an HTTP function that wrk loads."""

import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer")
def tick(timer: func.TimerRequest) -> None:
    """Print when the function itself started (seconds since the epoch)."""
    print(f"JITTER {time.time():.6f}")


@app.route(route="hello", methods=["GET"])
async def hello(req: func.HttpRequest) -> func.HttpResponse:
    """The load: answered from the event loop that also runs the timer."""
    return func.HttpResponse("Hello, world!")
