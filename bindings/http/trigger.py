"""HTTP trigger and HTTP output: parsed request → Datum → worker → Datum → HttpAnswer.

The host's server owns the socket; this module registers each function's route on it and
translates in both directions: the request as aiohttp's parser gave it becomes the
``func.HttpRequest`` the library's converter would build from the host's ``http`` TypedData,
and the function's output becomes an ``HttpAnswer`` the server frames and writes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import azure.functions as func
from aiohttp.http import RawRequestMessage
from azure.functions.http import HttpRequest  # the class the library's converter builds
from azure.functions.meta import Datum

from funchost.bindings.base import (
    NATIVE,
    BindingContext,
    BindingProvider,
    BindingSpec,
    Description,
    Dispatch,
    OutputBinding,
    TriggerEvent,
    TriggerProvider,
)
from funchost.bindings.http.answer import HttpAnswer
from funchost.bindings.http.cookies import CookieRefused, cookie_lines, header_lines
from funchost.bindings.http.router import FunctionRouter
from funchost.bindings.http.stream import (
    STREAM_PROPERTY,
    BodyRefused,
    RequestBody,
    ResponseSink,
    StreamRequest,
)
from funchost.errors import BindingError

log = logging.getLogger("funchost.http")

_DISPLAY_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
# frameworks: azure-functions 2.x adds QUERY to func.HttpMethod, and AsgiFunctionApp and
# WsgiFunctionApp register every member; it is accepted (and routed), not displayed.
HTTP_METHODS = frozenset((*_DISPLAY_ORDER, "QUERY"))


class HttpTriggerListener:
    """Serves one HTTP-triggered function through the host's router."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch) -> None:
        router = ctx.http
        if not isinstance(router, FunctionRouter):
            raise BindingError("the HTTP trigger needs the host's HTTP server")
        self._dispatch = dispatch
        self._function_name = ctx.function_name
        self._output_names = _http_output_names(ctx.function_bindings)
        self.methods = _methods(spec.properties.get("methods"), ctx.function_name)
        self.route = str(spec.properties.get("route") or ctx.function_name)
        self._prefix = router.route_prefix
        self.auth_level = str(spec.properties.get("authLevel") or "function").lower()
        if spec.properties.get(STREAM_PROPERTY):  # the worker serves it streamed
            name, level = ctx.function_name, self.auth_level
            router.add_stream_route(self.route, self.methods, self.stream, name, level)
        else:
            router.add_route(
                self.route, self.methods, self.answer, ctx.function_name, self.auth_level
            )

    def describe(self, base_url: str) -> Description:
        """``[GET,POST] http://localhost:7071/api/route``, as Core Tools prints it."""
        methods = ",".join(m for m in _DISPLAY_ORDER if self.methods is None or m in self.methods)
        path = "/".join(p for p in (self._prefix, self.route.strip("/")) if p)
        url = f"{base_url}/{path}"
        return Description(f"[{methods}] {url}", url)

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """HTTP functions are called over HTTP, not through the admin API."""
        return None

    async def start(self) -> None:
        """Nothing to start: the host's server already listens."""

    async def stop(self, deadline: float) -> None:
        """Nothing to stop: the host's server drains its own requests."""

    async def answer(
        self, message: RawRequestMessage, body: bytes, route_params: dict[str, str]
    ) -> HttpAnswer:
        """Run the function for one request and answer with what it produced."""
        try:
            result = await self._dispatch(trigger_event(message, route_params, body))
        except Exception:
            # The worker has already logged the failure with the user's traceback.
            return HttpAnswer(500, [])
        # With several http outputs (an Out parameter beside $return), the one set wins.
        outputs = result.outputs
        datum = None
        for name in self._output_names:
            if name in outputs:
                datum = outputs[name]
                break
        try:
            return answer_from_datum(datum, head=message.method == "HEAD")
        except CookieRefused as refused:
            return self._cookie_refused(refused)

    async def stream(
        self,
        message: RawRequestMessage,
        body: RequestBody,
        route_params: dict[str, str],
        sink: ResponseSink,
    ) -> None:
        """Run the function for one streamed request; it writes its response to ``sink``."""
        request = StreamRequest(message, route_params, body, sink)
        try:
            await self._dispatch(_event(request, message, route_params))
        except Exception as exc:
            # The worker has logged the failure; the client gets what can still be sent.
            await _failed(sink, exc)
            return
        if sink.disconnected and not sink.finished:
            log.info(
                "Functions.%s: the client disconnected before the response ended.",
                self._function_name,
            )
        elif not sink.started:
            log.error("Functions.%s sent no response; answering 500.", self._function_name)
            await _answer(sink, 500, [], b"")
        elif not sink.finished:
            await sink.send(b"", more=False)  # the app returned without ending its body

    def _cookie_refused(self, refused: CookieRefused) -> HttpAnswer:
        """In Azure the worker or the host fails the invocation over it: a bare 500."""
        name = self._function_name
        log.error("Functions.%s answered a cookie that cannot be sent: %s", name, refused)
        return HttpAnswer(500, [])


async def _failed(sink: ResponseSink, exc: Exception) -> None:
    """After a failed streamed invocation: its 500 (400/413 for a refused body), or a cut."""
    if sink.committed:
        sink.abort()
        return
    refused = _cause(exc, BodyRefused)
    if refused is not None:
        await _answer(sink, refused.status, [_TEXT_PLAIN], refused.reason.encode())
    elif not sink.disconnected:
        await _answer(sink, 500, [], b"")


async def _answer(
    sink: ResponseSink, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    sink.start(status, headers, None)
    with contextlib.suppress(ConnectionError):  # nobody left to answer
        await sink.send(body, more=False)


def _cause(exc: BaseException, kind: type[BodyRefused]) -> BodyRefused | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def trigger_event(
    message: RawRequestMessage, route_params: Mapping[str, str], body: bytes
) -> TriggerEvent:
    """The request as an event: a func.HttpRequest, with route values as trigger metadata."""
    return _event(native_request(message, route_params, body), message, route_params)


def _event(
    request: object, message: RawRequestMessage, route_params: Mapping[str, str]
) -> TriggerEvent:
    """An event whose data is ``request`` as it is, with route values and the trace."""
    event = TriggerEvent(data=Datum(request, NATIVE))
    if route_params:
        event.metadata.update({k: Datum(v, "string") for k, v in route_params.items()})
    traceparent = message.headers.get("traceparent")
    if traceparent:
        # The invocation continues the caller's W3C trace, as the Functions host's does.
        event.metadata["traceparent"] = Datum(traceparent, "string")
        tracestate = message.headers.get("tracestate")
        if tracestate:
            event.metadata["tracestate"] = Datum(tracestate, "string")
    return event


def native_request(
    message: RawRequestMessage, route_params: Mapping[str, str], body: bytes
) -> HttpRequest:
    """The func.HttpRequest the library's converter would build from the host's RpcHttp."""
    # The host leaves out query parameters whose value is empty (Python workers do not
    # declare the capability that keeps them); headers are kept even when empty.
    query = message.url.query if "?" in message.path else None
    params = {k: v for k, v in string_values(query.items()).items() if v} if query else {}
    # The URL as the client sent it (funchost serves plain HTTP), without yarl building one.
    host = message.headers.get("Host") or "localhost"
    return HttpRequest(
        method=message.method,
        url=f"http://{host}{message.path}",
        headers=string_values(message.headers.items()),
        params=params,
        route_params=dict(route_params),
        body_type="bytes",
        body=body,
    )


def string_values(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """One value per lower-cased name, as .NET's StringValues.ToString() gives it to the worker.

    Repeated values are joined with ',' without a space, skipping empty ones.
    """
    values: dict[str, str] = {}
    for key, value in items:
        name = key.lower()
        if name not in values:
            values[name] = value
        elif value:
            values[name] = f"{values[name]},{value}" if values[name] else value
    return values


def answer_from_datum(datum: Datum | None, *, head: bool = False) -> HttpAnswer:
    """The answer for the encoded HTTP output of an invocation.

    CookieRefused when a Set-Cookie header cannot go out as the worker and host send it.
    """
    if datum is None or datum.value is None:
        # No http output was set (an Out parameter never set; a None $return already failed
        # the invocation): the host's HTTP trigger hands ASP.NET Core a null result, which
        # MVC's ObjectResult answers with 204 No Content.
        return HttpAnswer(204, [])
    if datum.type == NATIVE:
        return _from_response(datum.value, head)
    if datum.type == "http":
        return _from_http_value(datum.value, head)
    if datum.type == "string":
        return HttpAnswer(200, [_TEXT_PLAIN], datum.value.encode())
    if datum.type == "bytes":
        return HttpAnswer(200, [_OCTET_STREAM], datum.value)
    raise BindingError(f"cannot turn a {datum.type!r} value into an HTTP response")


# What the library's converter sends with a str or bytes return value.
_TEXT_PLAIN = ("Content-Type", "text/plain; charset=utf-8")
_OCTET_STREAM = ("Content-Type", "application/octet-stream")
# Headers written again rather than passed on. The server frames the body itself: a stale
# Content-Length from the function would cut the body short or leave bytes that corrupt the
# next response on the connection. Set-Cookie goes out as the worker and host rewrite it.
_REWRITTEN = frozenset({"content-length", "transfer-encoding", "set-cookie"})
_REWRITTEN_HEAD = frozenset({"transfer-encoding", "set-cookie"})  # keeps the GET's length


def _from_http_value(value: Mapping[str, Any], head: bool) -> HttpAnswer:
    body_datum = value.get("body")
    body = body_datum.value if body_datum is not None else b""
    if isinstance(body, str):
        body = body.encode()
    # A HEAD answer has no body: the function's Content-Length is the one of the GET.
    dropped = _REWRITTEN if body or not head else _REWRITTEN_HEAD
    headers = [
        (name, str(header.value))
        for name, header in value.get("headers", {}).items()
        if name.lower() not in dropped
    ]
    # The library's converter has taken the Set-Cookie headers apart already.
    headers.extend(("Set-Cookie", line) for line in cookie_lines(value.get("cookies") or ()))
    status = int(value["status_code"].value) if value.get("status_code") else 200
    return HttpAnswer(status, headers, body)


def _from_response(response: func.HttpResponse, head: bool) -> HttpAnswer:
    """Write a func.HttpResponse straight out, as the library's converter would encode it."""
    body = response.get_body() or b""
    content_type = ("Content-Type", _content_type(response.mimetype, response.charset))
    own = response.headers  # a property: read once
    if not own:  # the common case: only the Content-Type to add
        return HttpAnswer(response.status_code, [content_type], body)
    dropped = _REWRITTEN if body or not head else _REWRITTEN_HEAD
    headers = [(name, value) for name, value in own.items() if name.lower() not in dropped]
    # Fewer than the function set: framing or cookies were left out (so a response without
    # either looks no further).
    rewritten = len(headers) < len(own)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(content_type)
    if rewritten:
        headers.extend(("Set-Cookie", line) for line in header_lines(own.getlist("Set-Cookie")))
    return HttpAnswer(response.status_code, headers, body)


@functools.lru_cache(maxsize=64)
def _content_type(mimetype: str, charset: str) -> str:
    """The Content-Type the library's converter sends: the charset only for text types."""
    return f"{mimetype}; charset={charset}" if mimetype.startswith("text/") else mimetype


def _http_output_names(bindings: Iterable[BindingSpec]) -> tuple[str, ...]:
    """Names of the function's http outputs, a named Out parameter before $return."""
    names = [b.name for b in bindings if b.type.lower() == "http" and b.direction == "out"]
    return tuple(sorted(names, key=lambda name: name == "$return"))


def _methods(raw: object, function_name: str) -> frozenset[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise BindingError(
            f"function '{function_name}': 'methods' is {raw!r}; expected a list of HTTP methods"
        )
    methods = frozenset(str(getattr(m, "value", m)).upper() for m in raw)
    unknown = sorted(methods - HTTP_METHODS)
    if unknown:
        raise BindingError(
            f"function '{function_name}': unknown HTTP method(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(HTTP_METHODS))}"
        )
    return methods or None


class HttpOutputProvider(BindingProvider):
    """``http`` output: consumed by the HTTP trigger that started the invocation."""

    type_name = "http"

    def output(self, spec: BindingSpec, ctx: BindingContext) -> OutputBinding | None:
        """The trigger reads this output from the result, so there is nothing to write."""
        if not any(b.type.lower() == "httptrigger" for b in ctx.function_bindings):
            raise BindingError("an 'http' output binding needs an httpTrigger on the same function")
        return None


# A route on the host's server: the listener registers it, the server does the listening.
HTTP_TRIGGER = TriggerProvider("httpTrigger", HttpTriggerListener)
HTTP_OUTPUT = HttpOutputProvider()
