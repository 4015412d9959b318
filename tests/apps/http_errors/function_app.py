"""Functions that fail: the caller gets a bare 500, the log gets the user's traceback."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def check_value(value: str) -> None:
    raise ValueError(f"bad value {value!r}")


@app.route(route="fails")
def fails(req: func.HttpRequest) -> func.HttpResponse:
    check_value(req.params.get("v", "none"))
    return func.HttpResponse("unreachable")


@app.route(route="afails")
async def afails(req: func.HttpRequest) -> func.HttpResponse:
    raise KeyError("missing-key")


@app.route(route="wrongtype")
def wrongtype(req: func.HttpRequest) -> func.HttpResponse:
    return 42  # type: ignore[return-value]


@app.route(route="fine")
def fine(req: func.HttpRequest) -> str:
    return "still serving"
