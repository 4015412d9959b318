import azure.functions as func

app = func.FunctionApp()


@app.route(route="conn")
@app.generic_output_binding(arg_name="out", type="http", connection="MissingConn")
def missing_conn(req: func.HttpRequest, out: func.Out[func.HttpResponse]) -> func.HttpResponse:
    return func.HttpResponse("conn")  # @app.route declares $return too: None would fail


@app.route(route="%MissingRoute%")
def missing_route(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("route")


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
