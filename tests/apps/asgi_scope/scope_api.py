"""A FastAPI app that answers with what it saw: its scope, and the body it was sent.

Served twice by the tests: through the direct path (function_app.py) and through the
library's AsgiMiddleware (library_app.py); both must see and answer the same.
"""

import hashlib
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

api = FastAPI()

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# Values the scope holds as objects: compared by what a test can see of them.
_CONTEXT = ("function_name", "function_directory")
# The keys a server puts in the scope (FastAPI adds its own while routing).
_SERVER_KEYS = frozenset(
    {
        *("type", "asgi.version", "asgi.spec_version", "http_version", "method", "scheme"),
        *("path", "raw_path", "query_string", "root_path", "headers", "server", "client"),
        *("state", "asgi", "extensions"),
    }
)


def seen(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope as JSON: bytes as latin-1 text, the context's plain values."""
    shown: dict[str, Any] = {}
    for key, value in scope.items():
        if key not in _SERVER_KEYS and not key.startswith("azure_functions."):
            continue  # added by FastAPI while routing
        if key.startswith("azure_functions."):
            name = key.removeprefix("azure_functions.")
            shown[key] = value if name in _CONTEXT else type(value).__name__
        elif isinstance(value, bytes):
            shown[key] = value.decode("latin-1")
        elif key == "headers":
            shown[key] = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in value]
        else:
            shown[key] = value
    return shown


@api.api_route("/{full:path}", methods=_METHODS)
async def answer(request: Request, full: str) -> Response:
    """/plain: no Content-Type; .../body/...: the body back; anything else: what was seen."""
    body = await request.body()
    if full.endswith("plain"):
        return Response(b"no content type", headers={"Content-Encoding": "identity"})
    if "/body/" in f"/{full}/":
        return Response(body, media_type="application/octet-stream")
    response = JSONResponse(
        {
            "scope": seen(request.scope),
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
    )
    for name, value in (
        ("X-Repeated", "one"),
        ("X-Repeated", "two"),
        ("Set-Cookie", "seen=1; Path=/"),
    ):
        response.headers.append(name, value)
    return response
