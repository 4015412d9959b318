"""HTTP verbs: a function limited to GET and POST, and one that accepts every verb.

The app keeps the default auth level (FUNCTION): like `func start`, funchost asks for no key.
"""

import azure.functions as func

app = func.FunctionApp()


@app.route(route="getpost", methods=["GET", "POST"])
def getpost(req: func.HttpRequest) -> func.HttpResponse:
    """Echo the method."""
    return func.HttpResponse(req.method, headers={"X-Method": req.method})


@app.route(route="anyverb")
def anyverb(req: func.HttpRequest) -> func.HttpResponse:
    """No methods: every verb reaches the function."""
    return func.HttpResponse(req.method, headers={"X-Method": req.method})


@app.route(route="lower", methods=[func.HttpMethod.PUT, "delete"])
def lower(req: func.HttpRequest) -> func.HttpResponse:
    """Methods given as the library's enum and in lower case."""
    return func.HttpResponse(req.method)
