"""User code that misbehaves in every way the fault suite checks; ``ok`` is the bystander."""

import asyncio
import os
import sys
import threading
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="ok")
def ok(req: func.HttpRequest) -> str:
    return "ok"


@app.route(route="raises")
def raises(req: func.HttpRequest) -> str:
    raise ValueError("the function failed on purpose")


@app.route(route="hangs")
async def hangs(req: func.HttpRequest) -> str:
    await asyncio.sleep(60)  # past functionTimeout (2 s)
    return "too late"


@app.route(route="blocks")
async def blocks(req: func.HttpRequest) -> str:
    time.sleep(2)  # holds the event loop: nothing else runs meanwhile
    return "blocked"


@app.route(route="leaks")
def leaks(req: func.HttpRequest) -> str:
    # A non-daemon thread that never ends: the interpreter would wait for it at exit.
    threading.Thread(target=threading.Event().wait, name="leaked").start()
    return "leaked"


@app.route(route="wrong_type")
def wrong_type(req: func.HttpRequest):  # type: ignore[no-untyped-def]
    return 42  # an HTTP response must be an HttpResponse or a str


@app.route(route="exits")
def exits(req: func.HttpRequest) -> str:
    sys.exit(3)


@app.route(route="exits_async")
async def exits_async(req: func.HttpRequest) -> str:
    sys.exit(4)


@app.route(route="hard_exit")
def hard_exit(req: func.HttpRequest) -> str:
    os._exit(5)  # cannot be caught in-process: the known limit
