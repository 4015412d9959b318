"""A WSGI app that answers with what it saw: its environ and the body it was sent.

/log writes a line to wsgi.errors; /body/... answers the body back.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

_OBJECTS = ("wsgi.input", "wsgi.errors")


def seen(environ: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in environ.items():
        if key in _OBJECTS:
            shown[key] = type(value).__name__
        elif key.startswith("azure_functions."):
            name = key.removeprefix("azure_functions.")
            plain = name in ("function_name", "function_directory")
            shown[key] = value if plain else type(value).__name__
        else:
            shown[key] = list(value) if isinstance(value, tuple) else value
    return shown


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    body = environ["wsgi.input"].read()
    if path.endswith("/log"):
        environ["wsgi.errors"].write("something went wrong\n")
    if "/body/" in path:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [body]
    doc = {
        "environ": seen(environ),
        "length": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    headers = [("Content-Type", "application/json"), ("X-Repeated", "1"), ("X-Repeated", "2")]
    start_response("200 OK", [*headers, ("Set-Cookie", "seen=1; Path=/")])
    return [json.dumps(doc).encode()]
