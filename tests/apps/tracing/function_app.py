import azure.functions as func
from opentelemetry import trace

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
tracer = trace.get_tracer("tracing-app")


@app.route(route="traced")
def traced(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    # The function's own span: it must be a child of the invocation's.
    with tracer.start_as_current_span("inner work"):
        pass
    return func.HttpResponse(context.trace_context.trace_parent)


@app.route(route="traced_async")
async def traced_async(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    with tracer.start_as_current_span("inner async work"):
        pass
    return func.HttpResponse(context.trace_context.trace_parent)


@app.route(route="fails")
def fails(req: func.HttpRequest) -> func.HttpResponse:
    raise ValueError("on purpose")


@app.schedule(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=False)
def yearly(timer: func.TimerRequest) -> None:
    with tracer.start_as_current_span("timer work"):
        pass
