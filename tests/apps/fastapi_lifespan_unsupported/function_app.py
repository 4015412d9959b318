"""An ASGI app that serves HTTP only and raises on the lifespan scope, as Django's does."""

from typing import Any

import azure.functions as func
from fastapi import FastAPI

api = FastAPI()


@api.get("/api/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError(f"this app can only handle HTTP connections, not {scope['type']}")
    await api(scope, receive, send)


app = func.AsgiFunctionApp(app=http_only, http_auth_level=func.AuthLevel.ANONYMOUS)
