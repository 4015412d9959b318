import azure.functions as func


def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
