"""Each @app.route function has a twin declared with generic_trigger + generic_output_binding.

The route ones live under /api/r/..., the generic ones under /api/g/...; the tests call
both and expect the same answers.
"""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

GENERIC_RETURN = {"arg_name": "$return", "type": "http"}


def hello_body(req: func.HttpRequest) -> str:
    return f"hello {req.route_params['name']} {req.method} {req.params.get('q', '-')}"


@app.route(route="r/hello/{name}", methods=["GET", "POST"])
def r_hello(req: func.HttpRequest) -> str:
    return hello_body(req)


@app.generic_trigger(
    arg_name="req", type="httpTrigger", route="g/hello/{name}", methods=["GET", "POST"]
)
@app.generic_output_binding(**GENERIC_RETURN)
def g_hello(req: func.HttpRequest) -> str:
    return hello_body(req)


def item_response(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        f"item {req.route_params['id']}", status_code=201, headers={"x-item": "yes"}
    )


@app.route(route="r/items/{id:int}")
def r_item(req: func.HttpRequest) -> func.HttpResponse:
    return item_response(req)


@app.generic_trigger(arg_name="req", type="httpTrigger", route="g/items/{id:int}")
@app.generic_output_binding(**GENERIC_RETURN)
def g_item(req: func.HttpRequest) -> func.HttpResponse:
    return item_response(req)


@app.route(route="r/fails")
def r_fails(req: func.HttpRequest) -> str:
    raise ValueError("route fails")


@app.generic_trigger(arg_name="req", type="httpTrigger", route="g/fails")
@app.generic_output_binding(**GENERIC_RETURN)
def g_fails(req: func.HttpRequest) -> str:
    raise ValueError("generic fails")


@app.route(route="r/keyed", auth_level=func.AuthLevel.FUNCTION)
def r_keyed(req: func.HttpRequest) -> str:
    return "keyed"


@app.generic_trigger(
    arg_name="req", type="httpTrigger", route="g/keyed", auth_level=func.AuthLevel.FUNCTION
)
@app.generic_output_binding(**GENERIC_RETURN)
def g_keyed(req: func.HttpRequest) -> str:
    return "keyed"


def set_out(res: func.Out[func.HttpResponse]) -> None:
    res.set(func.HttpResponse("from out", status_code=202))


# binding_arg_name: a plain @app.route also declares $return, and a None return would fail.
@app.route(route="r/out", binding_arg_name="res")
def r_out(req: func.HttpRequest, res: func.Out[func.HttpResponse]) -> None:
    set_out(res)


@app.generic_trigger(arg_name="req", type="httpTrigger", route="g/out")
@app.generic_output_binding(arg_name="res", type="http")
def g_out(req: func.HttpRequest, res: func.Out[func.HttpResponse]) -> None:
    set_out(res)


@app.generic_trigger(arg_name="req", type="httpTrigger", methods=["GET"])
@app.generic_output_binding(**GENERIC_RETURN)
def g_noroute(req: func.HttpRequest) -> str:
    """No route: served at /api/<function name>, as an @app.route without one."""
    return "no route"
