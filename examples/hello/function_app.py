"""The sample app from README.md: one HTTP function, as `func init` would write it."""

import logging

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="hello", methods=["GET", "POST"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    """Greet whoever is named in ?name= or in a JSON body."""
    name = req.params.get("name")
    if not name:
        try:
            name = req.get_json().get("name")
        except ValueError:
            name = None
    logging.info("Python HTTP trigger function processed a request.")
    if not name:
        return func.HttpResponse(
            "Pass a name in the query string or in the request body.", status_code=400
        )
    return func.HttpResponse(f"Hello, {name}. This HTTP triggered function executed successfully.")
