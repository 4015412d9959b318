"""The context argument, and where sync and async functions run and log."""

import asyncio
import json
import logging
import threading
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="ctx")
def ctx(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    body = {
        "invocation_id": context.invocation_id,
        "function_name": context.function_name,
        "function_directory": context.function_directory,
        "trace_parent": context.trace_context.trace_parent,
        "retry_count": context.retry_context.retry_count,
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="sync")
def sync(req: func.HttpRequest) -> str:
    logging.info("sync function says hello")
    logging.getLogger("my.module").warning("sync warning from my.module")
    return threading.current_thread().name


@app.route(route="async")
async def asyncfn(req: func.HttpRequest) -> str:
    await asyncio.sleep(0)
    logging.info("async function says hello")
    return threading.current_thread().name


@app.route(route="sleepy")
def sleepy(req: func.HttpRequest) -> str:
    """Blocks its thread: concurrent calls only overlap if each gets its own thread."""
    time.sleep(0.5)
    return "rested"


@app.route(route="asleep")
async def asleep(req: func.HttpRequest) -> str:
    await asyncio.sleep(0.5)
    return "rested"
