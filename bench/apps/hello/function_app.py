"""Benchmark subject: the smallest async and sync HTTP functions."""

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
