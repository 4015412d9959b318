"""func.Context as the Python worker builds it: every property a function can read.

``props`` and ``props_async`` answer with what they read; ``threaded`` logs from threads it
starts; ``retried`` (a timer run at start-up) fails once and logs its retry context.
"""

import asyncio
import json
import logging
import threading
from typing import Any

import azure.functions as func
from blueprints.nested import bp

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(bp)


def read(context: func.Context) -> dict[str, Any]:
    """Every property of the context, the worker's capitalised trace names too."""
    trace, retry = context.trace_context, context.retry_context
    storage = context.thread_local_storage
    return {
        "invocation_id": context.invocation_id,
        "function_name": context.function_name,
        "function_directory": context.function_directory,
        "trace_parent": trace.trace_parent,
        "trace_state": trace.trace_state,
        "attributes": dict(trace.attributes),
        "Traceparent": trace.Traceparent,
        "Tracestate": trace.Tracestate,
        "Attributes": dict(trace.Attributes),
        "retry_count": retry.retry_count,
        "max_retry_count": retry.max_retry_count,
        "rpc_exception": exception_fields(retry.rpc_exception),
        "retry_has_exception": hasattr(retry, "exception"),
        "storage_is_thread_local": isinstance(storage, threading.local),
        "storage_invocation_id": storage.invocation_id,
    }


def exception_fields(exc: Any) -> dict[str, Any]:
    names = ("source", "stack_trace", "message", "is_user_exception", "type")
    return {name: getattr(exc, name) for name in names}


@app.route(route="props")
def props(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    # What a function keeps on thread_local_storage stays with its thread.
    storage = context.thread_local_storage
    storage.calls = getattr(storage, "calls", 0) + 1
    body = {**read(context), "thread": threading.get_ident(), "calls": storage.calls}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="props_async")
async def props_async(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    await asyncio.sleep(0)
    return func.HttpResponse(json.dumps(read(context)), mimetype="application/json")


@app.route(route="threaded")
def threaded(req: func.HttpRequest, context: func.Context) -> str:
    """Logs from two threads: one joins the invocation, as the developer reference shows."""

    def untold() -> None:
        try:
            context.thread_local_storage.invocation_id  # noqa: B018
        except AttributeError:
            logging.info("THREAD untold: no invocation_id")

    def joined() -> None:
        context.thread_local_storage.invocation_id = context.invocation_id
        logging.info("THREAD joined %s", context.thread_local_storage.invocation_id)

    for target in (untold, joined):
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    return context.invocation_id


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True)
@app.retry(strategy="fixed_delay", max_retry_count="2", delay_interval="00:00:00")
def retried(timer: func.TimerRequest, context: func.Context) -> None:
    """Fails on the first attempt; every attempt logs its retry context."""
    retry = context.retry_context
    fields = {"retry_count": retry.retry_count, "max_retry_count": retry.max_retry_count}
    logging.info("RETRY %s", json.dumps({**fields, **exception_fields(retry.rpc_exception)}))
    if retry.retry_count == 0:
        raise RuntimeError("the first attempt fails")
