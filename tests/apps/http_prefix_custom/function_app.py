"""routePrefix comes from host.json; the functions are the same in every prefix app."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="ping", methods=["GET"])
def ping(req: func.HttpRequest) -> str:
    return "pong"


@app.route(route="users/{id:int}")
def user(req: func.HttpRequest) -> str:
    return f"user {req.route_params['id']}"
