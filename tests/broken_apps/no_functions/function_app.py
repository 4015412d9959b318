import azure.functions as func

app = func.FunctionApp()


def not_decorated(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("never served")
