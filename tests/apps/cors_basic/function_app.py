"""CORS: a function for every verb, one that fails, and one that sets CORS headers itself."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    """Every verb, OPTIONS included, reaches it unless CORS answers first."""
    return func.HttpResponse(req.method, headers={"X-Method": req.method})


@app.route(route="fail")
def fail(req: func.HttpRequest) -> str:
    raise RuntimeError("boom")


@app.route(route="own")
def own(req: func.HttpRequest) -> func.HttpResponse:
    """Sets its own CORS and Vary headers."""
    headers = {"Access-Control-Allow-Origin": "https://other.example", "Vary": "Accept-Encoding"}
    return func.HttpResponse("own", headers=headers)
