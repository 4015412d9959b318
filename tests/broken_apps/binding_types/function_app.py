import azure.functions as func

app = func.FunctionApp()


@app.generic_trigger(arg_name="x", type="fooTrigger")
def foo(x: str) -> None:
    pass


@app.queue_trigger(arg_name="msg", queue_name="work", connection="AzureWebJobsStorage")
def work(msg: func.QueueMessage) -> None:
    pass


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
