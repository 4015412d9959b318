"""routePrefix is empty and a function claims '/' for GET: it wins over the host's home page."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="/", methods=["GET"])
def root(req: func.HttpRequest) -> str:
    return "the function at /"
