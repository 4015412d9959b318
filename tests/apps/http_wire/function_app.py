"""HTTP/1.1 framing on funchost's short way (no middleware), and on aiohttp's way when the
tests start it with --cors: an answer HTTP cannot carry, a large body, and a slow function to
pipeline behind."""

import asyncio

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="echo/{tag}", methods=["GET", "POST"])
async def echo(req: func.HttpRequest) -> func.HttpResponse:
    """The route value and the body back; ``?sleep=`` seconds first."""
    await asyncio.sleep(float(req.params.get("sleep", "0")))
    return func.HttpResponse(req.route_params["tag"].encode() + b":" + req.get_body())


@app.route(route="badstatus")
def badstatus(req: func.HttpRequest) -> func.HttpResponse:
    """A status code HTTP has no room for: ``?status=``, 1000 by default."""
    return func.HttpResponse("x", status_code=int(req.params.get("status", "1000")))


@app.route(route="big")
def big(req: func.HttpRequest) -> func.HttpResponse:
    """``?mib=`` MiB of a repeating pattern."""
    size = int(req.params.get("mib", "1")) * 1024 * 1024
    return func.HttpResponse(bytes(range(256)) * (size // 256), mimetype="application/octet-stream")


@app.route(route="plain/{tag}")
async def plain(req: func.HttpRequest) -> func.HttpResponse:
    """Never suspends: on Python 3.12+ the whole answer runs inside the eager task's start."""
    return func.HttpResponse(req.route_params["tag"] + ":")
