"""HTTP streams: functions taking the azurefunctions-extensions-http-fastapi Request.

The generators record in the folder STREAMS_MARKS names when they stop, so the tests can see
that a disconnect or the shutdown drain ended them.
"""

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import azure.functions as func
from azurefunctions.extensions.http.fastapi import JSONResponse, Request, StreamingResponse

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
MARKS = Path(os.environ.get("STREAMS_MARKS", "."))


def record(name: str, text: str) -> None:
    (MARKS / name).write_text(text)


@app.route(route="sse", methods=["GET"])
async def sse(req: Request) -> StreamingResponse:
    """Endless server-sent events, one every 10 ms."""

    async def events() -> AsyncIterator[str]:
        count = 0
        try:
            while True:
                yield f"data: event {count}\n\n"
                count += 1
                await asyncio.sleep(0.01)
        finally:
            record("sse-stopped", str(count))

    return StreamingResponse(events(), media_type="text/event-stream")


@app.route(route="firehose", methods=["GET"])
async def firehose(req: Request) -> StreamingResponse:
    """Endless 64 KiB pieces, as fast as the client takes them."""
    piece = b"x" * 65536

    async def pieces() -> AsyncIterator[bytes]:
        sent = 0
        try:
            while True:
                yield piece
                sent += 1
        finally:
            record("firehose-stopped", str(sent))

    return StreamingResponse(pieces(), media_type="application/octet-stream")


@app.route(route="upload", methods=["POST"])
async def upload(req: Request) -> JSONResponse:
    """The size and hash of the body, read piece by piece."""
    digest = hashlib.sha256()
    size = 0
    async for chunk in req.stream():
        digest.update(chunk)
        size += len(chunk)
    return JSONResponse({"length": size, "sha256": digest.hexdigest()})


@app.route(route="items/{item_id}", methods=["GET"])
async def item(req: Request) -> dict[str, object]:
    """A plain value: sent as FastAPI sends it, as JSON."""
    return {"item_id": req.path_params["item_id"], "q": req.query_params.getlist("q")}


@app.route(route="slow", methods=["GET"])
async def slow(req: Request) -> StreamingResponse:
    """A stream that outlasts the shutdown drain."""

    async def ticks() -> AsyncIterator[str]:
        try:
            while True:
                yield "tick\n"
                await asyncio.sleep(0.2)
        finally:
            record("slow-stopped", "yes")

    return StreamingResponse(ticks(), media_type="text/plain")


@app.route(route="classic", methods=["GET", "POST"])
def classic(req: func.HttpRequest) -> func.HttpResponse:
    """A func.HttpRequest function in the same app."""
    return func.HttpResponse(f"classic {len(req.get_body())}")
