import azure.functions as func

bp = func.Blueprint()


@bp.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
