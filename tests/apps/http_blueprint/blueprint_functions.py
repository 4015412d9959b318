"""Functions declared on a Blueprint in their own module."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="bp/hello/{name}", methods=["GET"])
def bp_hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"hello {req.route_params['name']} from the blueprint")


@bp.route(route="bp/echo", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
async def bp_echo(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.get_body(), mimetype="application/octet-stream")
