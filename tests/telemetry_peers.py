"""Loopback peers for the real trace exporters: an OTLP/HTTP collector (decoded with the
OpenTelemetry protos) and an Application Insights ingestion endpoint (``/v2.1/track``)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
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


class Ingestion:
    """Application Insights telemetry items received so far (envelopes as JSON)."""

    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        self.endpoint = ""

    def add(self, body: bytes) -> None:
        """Decode one ``track`` request (a JSON array of envelopes)."""
        with self._lock:
            self.bodies.append(body)
            self.items.extend(json.loads(body))

    def wait_for(self, kind: str, name: str, timeout: float = 10.0) -> dict[str, object]:
        """The first item of ``kind`` (e.g. ``Request``) whose data is named ``name``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for item in self.items:
                    data = item["data"]["baseData"]  # type: ignore[index]
                    if item["name"] == f"Microsoft.ApplicationInsights.{kind}" and (
                        data["name"] == name  # type: ignore[index]
                    ):
                        return item
            time.sleep(0.05)
        raise AssertionError(f"no {kind} named {name!r}; got {self.items}")


@contextmanager
def otlp_collector() -> Iterator[Collector]:
    """Serve ``POST /v1/traces`` on a free loopback port until the block ends."""
    collector = Collector()
    payload = ExportTraceServiceResponse().SerializeToString()
    with _serving("/v1/traces", collector.add, payload, "application/x-protobuf") as url:
        collector.endpoint = url
        yield collector


@contextmanager
def ai_ingestion() -> Iterator[Ingestion]:
    """Serve ``POST /v2.1/track`` as Application Insights' ingestion endpoint answers it."""
    ingestion = Ingestion()
    answer = json.dumps({"itemsReceived": 1, "itemsAccepted": 1, "errors": []}).encode()
    with _serving("/v2.1/track", ingestion.add, answer, "application/json") as url:
        ingestion.endpoint = url
        yield ingestion


@contextmanager
def _serving(
    path: str, receive: Callable[[bytes], None], answer: bytes, content_type: str
) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            ok = self.path == path
            if ok:
                receive(body)
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
