import azure.functions as func

app = func.FunctionApp()


@app.route(route="items/{id}", methods=["GET", "POST"])
def get_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"get_item {req.route_params['id']}")


@app.route(route="Items/{key}", methods=["GET"])
def fetch_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"fetch_item {req.route_params['key']}")
