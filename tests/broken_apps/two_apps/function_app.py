import azure.functions as func

app = func.FunctionApp()
app2 = func.FunctionApp()


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")


@app2.route(route="bye")
def bye(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("bye")
