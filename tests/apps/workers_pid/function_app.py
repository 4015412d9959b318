"""Which process answers: --workers and --reload tests (and bench/) read these."""

import os
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="pid")
def pid(req: func.HttpRequest) -> str:
    return str(os.getpid())


@app.route(route="sleep")
def sleep(req: func.HttpRequest) -> str:
    """A sync function that holds its thread for ``?s=`` seconds."""
    time.sleep(float(req.params.get("s", "1")))
    return str(os.getpid())


@app.route(route="version")
def version(req: func.HttpRequest) -> str:
    return "v1"


@app.route(route="greeting")
def greeting(req: func.HttpRequest) -> str:
    """A value from local.settings.json (a reload reads the file afresh)."""
    return os.environ.get("GREETING", "")
