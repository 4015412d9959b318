"""A loopback OTLP/HTTP trace collector: what the real exporter sends, decoded with its protos."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span, ids as lowercase hex as a traceparent writes them."""

    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, str]
    status_code: int
    events: tuple[str, ...]
    resource: dict[str, str]


class Collector:
    """Spans received so far, in arrival order."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self._lock = threading.Lock()
        self.endpoint = ""

    def add(self, body: bytes) -> None:
        """Decode one export request."""
        request = ExportTraceServiceRequest.FromString(body)
        with self._lock:
            self.requests += 1
            for resource_spans in request.resource_spans:
                resource = _attributes(resource_spans.resource.attributes)
                for scope in resource_spans.scope_spans:
                    self.spans.extend(_span(s, resource) for s in scope.spans)

    def wait_for(self, name: str, count: int = 1, timeout: float = 10.0) -> list[ReceivedSpan]:
        """The spans called ``name``, once ``count`` of them arrived (bounded wait)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [s for s in self.spans if s.name == name]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {count} span(s) named {name!r}; got {self.spans}")


def _attributes(items: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for kv in items:  # type: ignore[attr-defined]
        value = kv.value
        out[kv.key] = str(getattr(value, value.WhichOneof("value")))
    return out


def _span(span: object, resource: dict[str, str]) -> ReceivedSpan:
    s = span
    return ReceivedSpan(
        name=s.name,  # type: ignore[attr-defined]
        kind=s.kind,  # type: ignore[attr-defined]
        trace_id=s.trace_id.hex(),  # type: ignore[attr-defined]
        span_id=s.span_id.hex(),  # type: ignore[attr-defined]
        parent_span_id=s.parent_span_id.hex(),  # type: ignore[attr-defined]
        attributes=_attributes(s.attributes),  # type: ignore[attr-defined]
        status_code=s.status.code,  # type: ignore[attr-defined]
        events=tuple(e.name for e in s.events),  # type: ignore[attr-defined]
        resource=resource,
    )


@contextmanager
def otlp_collector() -> Iterator[Collector]:
    """Serve ``POST /v1/traces`` on a free loopback port until the block ends."""
    collector = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ok = self.path == "/v1/traces"
            if ok:
                collector.add(body)
            payload = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    collector.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield collector
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
