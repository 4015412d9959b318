"""A warmup function that always fails: the host starts anyway and keeps serving."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.warm_up_trigger(arg_name="warmupContext")
def warmup(warmupContext) -> None:  # type: ignore[no-untyped-def]
    raise ConnectionError("cache server unreachable")


@app.route(route="alive")
def alive(req: func.HttpRequest) -> str:
    return "alive"
