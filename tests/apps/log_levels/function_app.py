"""Functions that log at every level and print; each test's host.json decides what shows."""

import logging

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def log_everything(name: str, n: str | None) -> None:
    logging.debug("%s debug %s", name, n)
    logging.info("%s info %s", name, n)
    logging.warning("%s warning %s", name, n)
    logging.critical("%s critical %s", name, n)
    print(f"{name} print {n}")


@app.route(route="hello")
def hello(req: func.HttpRequest) -> str:
    log_everything("hello", req.params.get("n"))
    return "hello"


@app.route(route="other")
async def other(req: func.HttpRequest) -> str:
    log_everything("other", req.params.get("n"))
    return "other"


@app.route(route="boom")
def boom(req: func.HttpRequest) -> str:
    raise ValueError(f"boom {req.params.get('n')}")
