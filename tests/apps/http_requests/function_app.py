"""What a request carries reaches the function: body bytes, JSON, form, query, headers, URL."""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="echo", methods=["POST", "PUT"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.get_body(), mimetype="application/octet-stream")


@app.route(route="json", methods=["POST"])
def get_json(req: func.HttpRequest) -> func.HttpResponse:
    try:
        data = req.get_json()
    except ValueError as exc:
        return func.HttpResponse(f"bad json: {type(exc).__name__}", status_code=400)
    return func.HttpResponse(json.dumps({"got": data}), mimetype="application/json")


@app.route(route="form", methods=["POST"])
def form(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(req.form.to_dict(flat=False)), mimetype="application/json")


@app.route(route="inspect/{thing}")
def inspect(req: func.HttpRequest) -> func.HttpResponse:
    body = {
        "method": req.method,
        "url": req.url,
        "params": dict(req.params),
        "route_params": dict(req.route_params),
        "x_test_lower": req.headers.get("x-test"),
        "x_test_upper": req.headers.get("X-TEST"),
        "content_type": req.headers.get("Content-Type"),
        "x_multi": req.headers.get("X-Multi"),
        "x_empty": req.headers.get("X-Empty"),
        "body_length": len(req.get_body()),
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
