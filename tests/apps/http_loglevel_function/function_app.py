"""Two functions that log at info and warning; host.json decides what is printed."""

import logging

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="loud")
def loud(req: func.HttpRequest) -> str:
    logging.info("loud info %s", req.params.get("n"))
    logging.warning("loud warning %s", req.params.get("n"))
    return "loud"


@app.route(route="quiet")
def quiet(req: func.HttpRequest) -> str:
    logging.info("quiet info %s", req.params.get("n"))
    logging.warning("quiet warning %s", req.params.get("n"))
    return "quiet"
