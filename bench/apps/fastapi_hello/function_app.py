"""Benchmark subject: FastAPI hello, served by funchost as ``app`` and by uvicorn as ``api``."""

import azure.functions as func
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

api = FastAPI()


@api.get("/hello", response_class=PlainTextResponse)
async def hello() -> str:
    return "Hello, world!"


app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
