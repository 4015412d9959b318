import azure.functions as func

app = func.FunctionApp()


@app.route(route="extra")
def extra_param(req: func.HttpRequest, extra: str) -> func.HttpResponse:
    return func.HttpResponse(extra)


@app.route(route="nope")
@app.generic_output_binding(arg_name="nope", type="http")
def missing_param(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("missing")


@app.route(route="ctx")
def bad_context(req: func.HttpRequest, context: str) -> func.HttpResponse:
    return func.HttpResponse(context)


@app.route(route="outin")
def out_on_input(req: func.Out[func.HttpRequest]) -> func.HttpResponse:
    return func.HttpResponse("out")


@app.route(route="str")
def wrong_type(req: str) -> func.HttpResponse:
    return func.HttpResponse(req)


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")


@app.route(route="queue")
@app.queue_output(arg_name="msg", queue_name="outbox", connection="AzureWebJobsStorage")
def queue_without_param(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("queued")
