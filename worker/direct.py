"""Which HTTP functions the worker serves itself, streamed, instead of the library's way.

``AsgiFunctionApp`` and ``WsgiFunctionApp`` register a function, ``http_app_func``, that runs
the framework app through the library's middleware. When the indexed function is that very
function (its code is the library's, its closure holds the app's middleware), the worker
serves the app directly (worker/asgi.py, worker/wsgi.py); a function the user wrapped or
replaced keeps the library's path. The HTTP trigger learns it from a property on the trigger
binding (``STREAM_PROPERTY``), so it registers a streamed route.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import azure.functions as func

from funchost.bindings.base import BindingSpec
from funchost.bindings.http.stream import STREAM_ASGI, STREAM_PROPERTY, STREAM_WSGI

if TYPE_CHECKING:
    from funchost.worker.indexer import FunctionSpec


def served_directly(spec: FunctionSpec, app: object) -> FunctionSpec:
    """The spec, serving the framework app directly when it is the library's own function."""
    if spec.http_type == "asgi" and isinstance(app, func.AsgiFunctionApp):
        middleware = library_middleware(spec.func, func.AsgiFunctionApp, func.AsgiMiddleware)
        if middleware is not None and middleware is app.middleware:
            from funchost.worker.asgi import AsgiDirect

            return _direct(spec, AsgiDirect(app).__call__, STREAM_ASGI)
    if spec.http_type == "wsgi" and isinstance(app, func.WsgiFunctionApp):
        middleware = library_middleware(spec.func, func.WsgiFunctionApp, func.WsgiMiddleware)
        if middleware is not None:
            from funchost.worker.wsgi import WsgiDirect

            return _direct(spec, WsgiDirect(middleware._app).__call__, STREAM_WSGI)
    return spec


def _direct(spec: FunctionSpec, serve: Callable[..., Any], kind: str) -> FunctionSpec:
    trigger = mark_streamed(spec.trigger, kind)
    return dataclasses.replace(
        spec,
        func=serve,
        is_async=True,
        trigger=trigger,
        bindings=tuple(trigger if b.name == trigger.name else b for b in spec.bindings),
        params=tuple(
            dataclasses.replace(p, binding=trigger) if p.name == trigger.name else p
            for p in spec.params
        ),
    )


def mark_streamed(trigger: BindingSpec, kind: str) -> BindingSpec:
    """The trigger with the property that has the HTTP trigger register a streamed route."""
    return dataclasses.replace(trigger, properties={**trigger.properties, STREAM_PROPERTY: kind})


def library_middleware(user_func: Callable[..., Any], app_type: type, middleware_type: type) -> Any:
    """The middleware ``user_func`` closes over, when it is the library's ``http_app_func``."""
    code = getattr(user_func, "__code__", None)
    if code is None or code is not _library_code(app_type):
        return None
    for cell in getattr(user_func, "__closure__", None) or ():
        content = _content(cell)
        if isinstance(content, middleware_type):
            return content
    return None


def _content(cell: types.CellType) -> object:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _library_code(app_type: type) -> types.CodeType | None:
    """The code of the function the app type registers (nested in ``_add_http_app``)."""
    add = getattr(app_type, "_add_http_app", None)
    for const in getattr(getattr(add, "__code__", None), "co_consts", ()):
        if isinstance(const, types.CodeType) and const.co_name == "http_app_func":
            return const
    return None
