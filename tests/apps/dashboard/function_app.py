"""The dashboard's fixture: an HTTP, a timer and a queue function, and one turned off.

``retired`` is disabled by its app setting (local.settings.json); the queue's name and the
storage come from the test's environment (DASH_QUEUE, AzureWebJobsStorage).
"""

import logging

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello", methods=["GET", "POST"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    name = req.params.get("name") or req.get_body().decode() or "nobody"
    logging.info("hello says hi to %s", name)
    if name == "boom":
        raise ValueError("boom was asked for")
    return func.HttpResponse(f"hello {name}")


@app.timer_trigger(arg_name="timer", schedule="0 30 9 * * Mon-Fri", run_on_startup=False)
def standup(timer: func.TimerRequest) -> None:
    logging.info("standup: past due %s", timer.past_due)


@app.queue_trigger(arg_name="msg", queue_name="%DASH_QUEUE%", connection="AzureWebJobsStorage")
def work(msg: func.QueueMessage) -> None:
    logging.info("work got %s", msg.get_body().decode())


@app.route(route="retired")
def retired(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("never served: disabled by its app setting")
