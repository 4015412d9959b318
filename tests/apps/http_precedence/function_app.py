"""Route precedence: the least specific routes are declared first, so order cannot explain a win.

Every function answers with its own name.
"""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="p/{*rest}")
def catchall(req: func.HttpRequest) -> str:
    return "catchall"


@app.route(route="p/{name}")
def param(req: func.HttpRequest) -> str:
    return "param"


@app.route(route="items/{id}")
def item_any(req: func.HttpRequest) -> str:
    return "item_any"


@app.route(route="items/{id:int}")
def item_int(req: func.HttpRequest) -> str:
    return "item_int"


# Same precedence and both match "abc": the one declared first wins.
@app.route(route="tie/{a:minlength(2)}")
def tie_first(req: func.HttpRequest) -> str:
    return "tie_first"


@app.route(route="tie/{b:maxlength(5)}")
def tie_second(req: func.HttpRequest) -> str:
    return "tie_second"


# One route, two functions split by method.
@app.route(route="split", methods=["GET"])
def split_get(req: func.HttpRequest) -> str:
    return "split_get"


@app.route(route="split", methods=["POST"])
def split_post(req: func.HttpRequest) -> str:
    return "split_post"


# A more specific route that does not allow the method gives way to a less specific one.
@app.route(route="m/{name}", methods=["GET", "POST"])
def method_param(req: func.HttpRequest) -> str:
    return "method_param"


@app.route(route="m/fixed", methods=["POST"])
def method_literal(req: func.HttpRequest) -> str:
    return "method_literal"


@app.route(route="p/literal")
def literal(req: func.HttpRequest) -> str:
    return "literal"
