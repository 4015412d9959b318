"""maxConcurrentRequests is 1: a slow function reports when it started and ended."""

import asyncio
import json
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="slow")
async def slow(req: func.HttpRequest) -> func.HttpResponse:
    started = time.monotonic()
    await asyncio.sleep(float(req.params.get("s", "0.5")))
    body = {"name": req.params.get("name"), "started": started, "ended": time.monotonic()}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
