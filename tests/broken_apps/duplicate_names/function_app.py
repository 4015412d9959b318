import azure.functions as func

app = func.FunctionApp()


@app.function_name("same")
@app.route(route="first")
def first(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("first")


@app.function_name("same")
@app.route(route="second")
def second(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("second")
