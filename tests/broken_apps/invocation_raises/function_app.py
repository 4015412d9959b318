import azure.functions as func

app = func.FunctionApp()


@app.route(route="sync")
def sync_raises(req: func.HttpRequest) -> func.HttpResponse:
    raise ValueError("sync boom")


@app.route(route="async")
async def async_raises(req: func.HttpRequest) -> func.HttpResponse:
    raise ValueError("async boom")
