"""Route templates and constraints; every function answers with its route values as JSON."""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def values(req: func.HttpRequest, name: str) -> func.HttpResponse:
    """The function's name and route values, for the test to compare."""
    body = {"function": name, "params": dict(req.route_params)}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="hello/{name}")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "hello")


@app.route(route="items/{id:int}")
def item(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "item")


@app.route(route="opt/{id?}")
def optional(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "optional")


@app.route(route="lang/{code=en}")
def defaulted(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "defaulted")


@app.route(route="files/{*rest}")
def files(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "files")


@app.route(route="two/{first}/and/{second}")
def two(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "two")


@app.route(route="report.{ext}")
def report(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "report")


@app.route(route="c/bool/{v:bool}")
def c_bool(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_bool")


@app.route(route="c/guid/{v:guid}")
def c_guid(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_guid")


@app.route(route="c/alpha/{v:alpha}")
def c_alpha(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_alpha")


@app.route(route="c/long/{v:long}")
def c_long(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_long")


@app.route(route="c/double/{v:double}")
def c_double(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_double")


@app.route(route="c/datetime/{v:datetime}")
def c_datetime(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_datetime")


@app.route(route="c/minlength/{v:minlength(3)}")
def c_minlength(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_minlength")


@app.route(route="c/maxlength/{v:maxlength(3)}")
def c_maxlength(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_maxlength")


@app.route(route="c/length/{v:length(2,4)}")
def c_length(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_length")


@app.route(route="c/min/{v:min(10)}")
def c_min(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_min")


@app.route(route="c/max/{v:max(10)}")
def c_max(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_max")


@app.route(route="c/range/{v:range(1,5)}")
def c_range(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_range")


@app.route(route="c/regex/{v:regex(^[a-z]{{2}}[0-9]+$)}")
def c_regex(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_regex")


@app.route(route="c/combined/{v:int:min(5)}")
def c_combined(req: func.HttpRequest) -> func.HttpResponse:
    return values(req, "c_combined")


@app.route()
def defaultroute(req: func.HttpRequest) -> func.HttpResponse:
    """No route: the route is the function's name."""
    return values(req, "defaultroute")


@app.function_name("Renamed")
@app.route()
def renamed_python_name(req: func.HttpRequest) -> func.HttpResponse:
    """No route and a function_name: the route is that name."""
    return values(req, "Renamed")
