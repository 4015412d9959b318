"""A Flask app served by func.WsgiFunctionApp under the default routePrefix "api".

The Functions host hands the framework the whole path (/api/...), so the routes live in a
blueprint mounted at /api. The tests run the same ``flask_app`` with Flask's test client and
compare the answers.
"""

import hashlib

import azure.functions as func
from flask import Blueprint, Flask, abort, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

flask_app = Flask(__name__)
flask_app.secret_key = "fixture-only-secret"

api = Blueprint("api", __name__, url_prefix="/api")
shop = Blueprint("shop", __name__, url_prefix="/shop")


@api.get("/hello")
def hello() -> ResponseReturnValue:
    names = request.args.getlist("name") or ["world"]
    return {"hello": names, "path": request.path, "script_root": request.script_root}


@api.post("/json")
def echo_json() -> ResponseReturnValue:
    data = request.get_json()
    return jsonify(received=data, kind=type(data).__name__), 201


@api.post("/login")
def login() -> ResponseReturnValue:
    session["user"] = request.form["user"]
    return {"logged_in": session["user"]}


@api.get("/me")
def me() -> ResponseReturnValue:
    if "user" not in session:
        abort(401)
    return {"user": session["user"]}


@api.post("/upload")
def upload() -> ResponseReturnValue:
    file = request.files["file"]
    data = file.read()
    return {
        "filename": file.filename,
        "content_type": file.content_type,
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "note": request.form.get("note"),
    }


@api.get("/old")
def old() -> ResponseReturnValue:
    return redirect(url_for("api.hello", name="redirected"))


@api.get("/items/<int:item_id>")
def item(item_id: int) -> ResponseReturnValue:
    if item_id > 100:
        abort(404, description=f"no item {item_id}")
    return {"item_id": item_id}


@api.get("/teapot")
def teapot() -> ResponseReturnValue:
    abort(418)


@api.errorhandler(418)
def teapot_error(error: HTTPException) -> ResponseReturnValue:
    return {"error": "teapot", "code": error.code}, 418, {"X-Error": "teapot"}


@api.get("/cookie")
def cookie() -> ResponseReturnValue:
    response = jsonify(set=True)
    response.set_cookie("theme", "dark", max_age=60, httponly=True, samesite="Lax")
    response.set_cookie("lang", "en", path="/api")
    response.headers["X-Custom"] = "custom value"
    return response


@api.get("/boom")
def boom() -> ResponseReturnValue:
    raise RuntimeError("unhandled in the view")


@shop.get("/cart")
def cart() -> ResponseReturnValue:
    return {"cart": [], "endpoint": request.endpoint}


api.register_blueprint(shop)
flask_app.register_blueprint(api)

app = func.WsgiFunctionApp(app=flask_app, http_auth_level=func.AuthLevel.ANONYMOUS)
