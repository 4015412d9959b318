"""--json-logs: a user log line, a print, a caught exception logged, and a failure."""

import logging

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="talk")
def talk(req: func.HttpRequest) -> str:
    logging.info("user line")
    print("printed line")
    return "ok"


@app.route(route="caught")
def caught(req: func.HttpRequest) -> str:
    try:
        {}["absent"]
    except KeyError:
        logging.exception("looked up a key that is not there")
    return "handled"


@app.route(route="fails")
async def fails(req: func.HttpRequest) -> str:
    raise KeyError("missing-key")
