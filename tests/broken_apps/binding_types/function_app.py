import azure.functions as func

app = func.FunctionApp()


@app.generic_trigger(arg_name="x", type="fooTrigger")
def foo(x: str) -> None:
    pass


@app.service_bus_queue_trigger(arg_name="msg", queue_name="work", connection="ServiceBus")
def work(msg: func.ServiceBusMessage) -> None:
    pass


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
