import azure.functions as func

app = func.FunctionApp()


@app.generic_trigger(arg_name="x", type="fooTrigger")
def foo(x: str) -> None:
    pass


@app.cosmos_db_trigger(arg_name="docs", connection="Cosmos", database_name="db", container_name="c")
def work(docs: func.DocumentList) -> None:
    pass


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
