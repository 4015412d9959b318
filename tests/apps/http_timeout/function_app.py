"""functionTimeout is one second; two functions take five."""

import asyncio
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="slow_async")
async def slow_async(req: func.HttpRequest) -> str:
    await asyncio.sleep(5)
    return "too late"


@app.route(route="slow_sync")
def slow_sync(req: func.HttpRequest) -> str:
    time.sleep(5)
    return "too late"


@app.route(route="quick")
def quick(req: func.HttpRequest) -> str:
    return "in time"


@app.route(route="stuck_sync")
def stuck_sync(req: func.HttpRequest) -> str:
    """Keeps its thread long after the timeout answered the caller."""
    time.sleep(30)
    return "much too late"
