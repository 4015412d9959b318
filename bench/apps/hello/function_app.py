"""Benchmark subject: the smallest async and sync HTTP functions, and a body echo."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="async", methods=["GET"])
async def hello_async(req: func.HttpRequest) -> func.HttpResponse:
    """Answer from the event loop."""
    return func.HttpResponse("Hello, world!")


@app.route(route="sync", methods=["GET"])
def hello_sync(req: func.HttpRequest) -> func.HttpResponse:
    """Answer from the thread pool."""
    return func.HttpResponse("Hello, world!")


@app.route(route="echo", methods=["POST"])
async def echo(req: func.HttpRequest) -> func.HttpResponse:
    """The request body back: the 64 KiB echo benchmark."""
    return func.HttpResponse(req.get_body())
