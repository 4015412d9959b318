"""What a function returns becomes the HTTP response: str, None, HttpResponse, Out[HttpResponse]."""

import http
import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="text")
def text(req: func.HttpRequest) -> str:
    return "plain text é"


@app.route(route="nothing")
def nothing(req: func.HttpRequest) -> None:
    """$return is the response, and None is no response: the invocation fails."""
    return None


@app.route(route="empty")
def empty(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse()


@app.route(route="cookies")
def cookies(req: func.HttpRequest) -> func.HttpResponse:
    resp = func.HttpResponse("two cookies")
    resp.headers.add("Set-Cookie", "a=1; Path=/")
    resp.headers.add("Set-Cookie", "b=2; Path=/; HttpOnly")
    return resp


# Set-Cookie headers as an app writes them, by case: the worker parses each into cookies and
# the Functions host writes every cookie again (tests/bindings/http/test_http_cookies.py).
COOKIES = {
    "every": [
        "foo3=42; Domain=example.com; Expires=Thu, 12-Jan-2017 13:55:08 GMT; Path=/; "
        "Max-Age=10000000; Secure; HttpOnly; SameSite=Lax"
    ],
    "default": ["foo=bar"],
    "samesite": ["a=1; SameSite=Strict", "b=2; SameSite=None; Secure", "c=3; SameSite=Bogus"],
    "oneheader": ["d=4; e=5"],
    "values": ['q="x y"', "p=/x/y?z", "t="],
    "fraction": ["f=1; Max-Age=1.9"],
    "empty": ["", "kept=1"],
    "badsecure": ["foo3=42; Path=/; SecureFalse; HttpOnly", "kept=1"],
    "badexpires": ["foo=s3cret-value; Domain=123; Expires=Dummy"],
    "badmaxage": ["foo=s3cret-value; Max-Age=Dummy"],
    "badname": ["a:b=s3cret-value"],
    "illegalname": ["a@b=s3cret-value"],
}


@app.route(route="cookie/{case}")
def cookie(req: func.HttpRequest) -> func.HttpResponse:
    resp = func.HttpResponse("cookies")
    for line in COOKIES[req.route_params["case"]]:
        resp.headers.add("Set-Cookie", line)
    return resp


@app.route(route="custom")
def custom(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps({"ok": True}),
        mimetype="application/json",
        headers={"X-Custom": "value-1", "Cache-Control": "no-store"},
    )


@app.route(route="latin")
def latin(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("café", mimetype="text/html", charset="latin-1")


@app.route(route="created", methods=["POST"])
def created(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("made", status_code=201, headers={"Location": "/api/things/1"})


@app.route(route="redirect")
def redirect(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=302, headers={"Location": "https://example.com/next"})


@app.route(route="accepted")
def accepted(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("queued", status_code=http.HTTPStatus.ACCEPTED)


@app.route(route="teapot")
def teapot(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("short and stout", status_code=418)


@app.route(route="notfound")
def notfound(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("no such thing", status_code=404)


@app.route(route="out", binding_arg_name="res")
def out(req: func.HttpRequest, res: func.Out[func.HttpResponse]) -> None:
    res.set(func.HttpResponse("from Out", status_code=202, headers={"X-Via": "out"}))


@app.route(route="outnotset", binding_arg_name="res")
def outnotset(req: func.HttpRequest, res: func.Out[func.HttpResponse]) -> None:
    """Never sets the output: no response was produced."""


@app.route(route="framing")
def framing(req: func.HttpRequest) -> func.HttpResponse:
    """Framing headers that do not fit the body: the host frames the body itself."""
    kind = req.params.get("kind")
    if kind == "length":
        return func.HttpResponse("hello world", headers={"Content-Length": "3"})
    return func.HttpResponse("hello world", headers={"Transfer-Encoding": "chunked"})


@app.route(route="two_outputs/{which}")
@app.generic_output_binding(arg_name="res", type="http")
def two_outputs(req: func.HttpRequest, res: func.Out[func.HttpResponse]) -> str | None:
    """Both an Out parameter and $return are http outputs: whichever is set answers, but
    $return is always encoded, so returning None fails even with the Out parameter set."""
    if req.route_params["which"] == "out":
        res.set(func.HttpResponse("from the Out parameter", status_code=201))
        return None
    return "from $return"
