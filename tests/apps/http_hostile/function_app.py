"""Functions a hostile client aims at (tests/faults/test_http_*.py): a keyed echo, a header
the client chooses, a large download, a catch-all route, a JSON body and a streamed echo."""

import asyncio
import json
import logging
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="keyed", methods=["GET", "POST"], auth_level=func.AuthLevel.FUNCTION)
def keyed(req: func.HttpRequest) -> func.HttpResponse:
    """Needs a function key; answers the body's length."""
    return func.HttpResponse(str(len(req.get_body())))


@app.route(route="echo", methods=["GET", "POST"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    """The body back, and the URL the function was given in a header."""
    return func.HttpResponse(req.get_body(), headers={"X-Url": req.url})


@app.route(route="header")
def header(req: func.HttpRequest) -> func.HttpResponse:
    """A response header whose value is ``?value=`` (control characters included)."""
    return func.HttpResponse("x", headers={"X-Chosen": req.params.get("value", "")})


@app.route(route="big")
def big(req: func.HttpRequest) -> func.HttpResponse:
    """``?mib=`` MiB (32 by default): more than a socket buffers."""
    size = int(req.params.get("mib", "32")) * 1024 * 1024
    return func.HttpResponse(b"\0" * size, mimetype="application/octet-stream")


@app.route(route="files/{*path}")
def files(req: func.HttpRequest) -> func.HttpResponse:
    """The catch-all route value back, never opened as a file."""
    return func.HttpResponse(req.route_params.get("path", ""))


@app.route(route="json", methods=["POST"])
def parse(req: func.HttpRequest) -> func.HttpResponse:
    """The body parsed as JSON: 400 naming the problem when it is not."""
    try:
        doc = req.get_json()
    except ValueError as exc:
        return func.HttpResponse(f"not JSON: {exc}", status_code=400)
    return func.HttpResponse(json.dumps({"type": type(doc).__name__}))


@app.route(route="leaky", auth_level=func.AuthLevel.FUNCTION)
def leaky(req: func.HttpRequest) -> func.HttpResponse:
    """Careless user code: logs its URL (key and all), then fails echoing a connection string."""
    logging.warning("called as %s", req.url)
    raise RuntimeError(f"cannot connect with {os.environ.get('LEAKY_CONNECTION', '')}")


@app.route(route="slow")
async def slow(req: func.HttpRequest) -> func.HttpResponse:
    """Answers after ``?s=`` seconds."""
    await asyncio.sleep(float(req.params.get("s", "1")))
    return func.HttpResponse("slow")
