"""HTTP/1.1 on the wire: an echo for bodies (limited to 1 KiB by local.settings.json) and a GET."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="echo", methods=["POST"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.get_body(), mimetype="application/octet-stream")


@app.route(route="hello", methods=["GET", "HEAD"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello", headers={"X-Hello": "world"}, mimetype="text/plain")
