"""Functions that take a second, to be caught in flight by SIGTERM."""

import asyncio
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="slow_async")
async def slow_async(req: func.HttpRequest) -> str:
    await asyncio.sleep(1)
    return "finished async"


@app.route(route="slow_sync")
def slow_sync(req: func.HttpRequest) -> str:
    time.sleep(1)
    return "finished sync"


@app.route(route="very_slow_async")
async def very_slow_async(req: func.HttpRequest) -> str:
    await asyncio.sleep(60)
    return "never"
