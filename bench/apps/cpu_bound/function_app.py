"""Benchmark subject: a `def` function that spends a few ms of pure Python per request."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
ROUNDS = 60_000  # about 3 ms of one core here: the load generator is never the limit


@app.route(route="cpu", methods=["GET"])
def cpu(req: func.HttpRequest) -> func.HttpResponse:
    """Hold the GIL for a few ms, then answer: one process serves one such request at a time."""
    total = 0
    for number in range(ROUNDS):
        total += number * number % 7
    return func.HttpResponse("Hello, world!" if total >= 0 else "")
