"""Not broken: one app under two names is still one app."""

import azure.functions as func

app = func.FunctionApp()
alias = app


@alias.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
