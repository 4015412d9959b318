"""Which process answers: --workers and --reload tests (and bench/) read these."""

import os
import threading
import time
from pathlib import Path

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


@app.route(route="meet")
def meet(req: func.HttpRequest) -> str:
    """Wait (5 s at most) until ``?n=`` calls are inside at once: proof they run side by side.

    Answers ``<pid> met``, or ``<pid> alone`` when the others never came in meanwhile.
    """
    folder = Path(os.environ["MEET_DIR"])
    wanted = int(req.params.get("n", "2"))
    (folder / f"{os.getpid()}-{threading.get_ident()}").touch()
    deadline = time.monotonic() + 5
    while len(list(folder.iterdir())) < wanted and time.monotonic() < deadline:
        time.sleep(0.01)
    met = len(list(folder.iterdir())) >= wanted
    return f"{os.getpid()} {'met' if met else 'alone'}"
