"""Fixture for CLI tests: two functions, one reading an app setting."""

import logging
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello")
def hello(req: func.HttpRequest) -> str:
    """Log a line and echo the GREETING app setting."""
    logging.info("hello was called")
    print("hello printed this")
    return os.environ.get("GREETING", "<unset>")


@app.route(route="other")
async def other(req: func.HttpRequest) -> str:
    """A second function, to check --functions filtering."""
    return "other"
