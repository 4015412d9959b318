"""HTTP streams: functions that take the ``azurefunctions-extensions-http-fastapi`` Request.

With the extension imported by the app, the official worker recognises such a function by
its trigger parameter (``RequestTrackerMeta.check_type``) and its return annotation
(``ResponseTrackerMeta.check_type``), and serves it through a web server of its own that the
host proxies to. funchost owns the socket: the function gets a Starlette ``Request`` bound to
the connection (its body read as it arrives), and the response it returns, a Starlette
response or a value FastAPI would send as JSON, is sent as its ASGI messages say, streamed.
Nothing here imports the extension or Starlette until an app uses them.
"""

from __future__ import annotations

import sys
import typing
from typing import Any

from funchost.bindings.http.stream import StreamRequest, own_headers
from funchost.worker.asgi import Exchange

# The converter the indexer gives such a trigger parameter (worker/converters.py).
CONVERTER = "funchost:http-stream"
_EXCHANGE = "funchost.exchange"  # the scope key holding the request's receive and send


def _base() -> Any:
    """The extensions' base package when the app imported an extension, else None."""
    return sys.modules.get("azurefunctions.extensions.base")


def is_stream_request(pytype: Any) -> bool:
    """Whether a trigger parameter's annotation is the HTTP streams extension's Request."""
    base = _base()
    if base is None or pytype is None or not base.HttpV2FeatureChecker.http_v2_enabled():
        return False
    try:
        return bool(base.RequestTrackerMeta.check_type(pytype))
    except TypeError:
        return False


def is_stream_response(pytype: Any) -> bool:
    """Whether a return annotation is one the HTTP streams extension can send."""
    base = _base()
    plain = typing.get_origin(pytype) or pytype  # dict[str, int] is a dict
    try:
        return base is not None and bool(base.ResponseTrackerMeta.check_type(plain))
    except TypeError:
        return False


def request_for(stream: StreamRequest) -> Any:
    """The Starlette Request the function gets, bound to the connection."""
    from starlette.requests import Request  # the extension's dependency

    exchange = Exchange(stream, own_headers)
    scope = _scope(stream)
    scope[_EXCHANGE] = exchange
    request = Request(scope, exchange.receive, exchange.send)
    synchronizer = _base().RequestTrackerMeta.get_synchronizer()
    synchronizer.sync_route_params(request, dict(stream.route_params))
    return request


async def respond(value: Any, request: Any) -> None:
    """Send what the function returned: a Starlette response as it is, anything else as
    FastAPI's JSON."""
    from fastapi.encoders import jsonable_encoder
    from starlette.responses import JSONResponse, Response

    response = value if isinstance(value, Response) else JSONResponse(jsonable_encoder(value))
    exchange: Exchange = request.scope[_EXCHANGE]
    await exchange.run(response, request.scope)


def _scope(stream: StreamRequest) -> dict[str, Any]:
    """The scope a server such as uvicorn gives the request: the URL as sent, every header."""
    from urllib.parse import unquote

    message = stream.message
    raw_path, _, query = message.path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{message.version.major}.{message.version.minor}",
        "method": message.method,
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("latin-1", "replace"),
        "query_string": query.encode("latin-1", "replace"),
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in message.raw_headers],
        "server": None,
        "client": None,
        "state": {},
        "path_params": {},  # the extension's synchronizer fills it with the route values
    }
