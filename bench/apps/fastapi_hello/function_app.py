"""Benchmark subject: FastAPI hello, served by funchost as ``app`` and by uvicorn as ``api``."""

from collections.abc import AsyncIterator

import azure.functions as func
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, StreamingResponse

api = FastAPI()


@api.get("/hello", response_class=PlainTextResponse)
async def hello() -> str:
    return "Hello, world!"


@api.get("/events")
async def events(n: int = 1000) -> StreamingResponse:
    """``n`` server-sent events, as fast as they are taken (the stream group)."""

    async def stream() -> AsyncIterator[str]:
        for number in range(n):
            yield f"data: {number}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
