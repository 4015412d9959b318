"""A FastAPI app whose lifespan fails: at startup, or at shutdown when FAIL_AT=shutdown."""

import contextlib
import os
from collections.abc import AsyncIterator

import azure.functions as func
from fastapi import FastAPI

FAIL_AT = os.environ.get("FAIL_AT", "startup")


@contextlib.asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[None]:
    print("fastapi_lifespan_fails: lifespan startup", flush=True)
    if FAIL_AT == "startup":
        raise ConnectionError("database unreachable at db.invalid:5432")
    yield
    print("fastapi_lifespan_fails: lifespan shutdown", flush=True)
    raise RuntimeError("could not flush the cache")


api = FastAPI(lifespan=lifespan)


@api.get("/api/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="plain")
def plain(req: func.HttpRequest) -> str:
    return "a plain function on the same app"
