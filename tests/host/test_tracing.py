"""OpenTelemetry through the real ``funchost start``: each invocation a span, exported over OTLP
and to Application Insights.

The exporters are the real opentelemetry-exporter-otlp-proto-http and
azure-monitor-opentelemetry-exporter; the peers on the other side decode what they send
(tests/telemetry_peers.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import Host, StartHost
from http_helpers import call, get
from telemetry_peers import Collector, ai_ingestion, otlp_collector

SERVER, INTERNAL = 2, 1  # OTLP's Span.SpanKind values
STATUS_ERROR = 2
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def traced(start_host: StartHost) -> Iterator[tuple[Host, Collector]]:
    with otlp_collector() as collector:
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # export within a tenth of a second
            "OTEL_SERVICE_NAME": "tracing-test",
        }
        yield start_host("tracing", env=env), collector


@pytest.mark.parametrize("function", ["traced", "traced_async"])
def test_an_invocation_is_a_span_continuing_the_callers_trace(
    traced: tuple[Host, Collector], function: str
) -> None:
    host, collector = traced
    caller = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    reply = get(host, f"/api/{function}", {"traceparent": caller, "tracestate": "k=v"})
    assert reply.status == 200
    _, trace_id, span_id, flags = reply.text.split("-")

    [span] = collector.wait_for(function)
    # The function's trace context names the invocation's span, child of the caller's.
    assert (span.trace_id, span.span_id, span.parent_span_id) == (trace_id, span_id, CALLER_SPAN)
    assert trace_id == CALLER_TRACE and flags == "01"
    assert span.kind == SERVER
    assert span.attributes["faas.name"] == function
    assert span.attributes["faas.trigger"] == "http"
    assert host.wait_for(f"Id={span.attributes['faas.invocation_id']}")
    assert span.resource["service.name"] == "tracing-test"
    assert span.resource["cloud.platform"] == "azure_functions"

    # The function's own span is the invocation span's child (thread or event loop alike).
    [inner] = collector.wait_for("inner work" if function == "traced" else "inner async work")
    assert (inner.trace_id, inner.parent_span_id) == (trace_id, span_id)


def test_without_a_caller_the_invocation_starts_a_trace(traced: tuple[Host, Collector]) -> None:
    host, collector = traced
    reply = get(host, "/api/traced")
    _, trace_id, span_id, _ = reply.text.split("-")
    [span] = collector.wait_for("traced")
    assert (span.trace_id, span.span_id, span.parent_span_id) == (trace_id, span_id, "")


def test_a_failed_invocation_is_an_error_span_with_the_exception(
    traced: tuple[Host, Collector],
) -> None:
    host, collector = traced
    assert get(host, "/api/fails").status == 500
    [span] = collector.wait_for("fails")
    assert span.status_code == STATUS_ERROR
    assert span.events == ("exception",)


def test_a_timer_run_through_admin_is_an_internal_span(traced: tuple[Host, Collector]) -> None:
    host, collector = traced
    assert call(host, "POST", "/admin/functions/yearly", body='{"input": ""}').status == 202
    [span] = collector.wait_for("yearly")
    assert span.kind == INTERNAL
    assert span.attributes["faas.trigger"] == "timerTrigger"
    [inner] = collector.wait_for("timer work")
    assert inner.parent_span_id == span.span_id


def test_spans_of_the_last_requests_are_exported_at_shutdown(start_host: StartHost) -> None:
    with otlp_collector() as collector:
        # A delay longer than the test: only the shutdown's flush can export them.
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "600000",
        }
        host = start_host("tracing", env=env)
        assert "Invocations are traced (OpenTelemetry: OTLP)" in host.output
        for _ in range(3):
            assert get(host, "/api/traced").status == 200
        assert collector.spans == []
        assert host.stop() == 0
        assert len([s for s in collector.spans if s.name == "traced"]) == 3


def test_without_settings_nothing_is_traced(start_host: StartHost) -> None:
    host = start_host("tracing")
    reply = get(host, "/api/traced")
    assert reply.status == 200
    assert "Invocations are traced" not in host.drain()


# With PYTHON_ENABLE_OPENTELEMETRY too: the distro is not installed, only its exporter, which
# also makes ``azure.monitor.opentelemetry`` importable (as a namespace): the exporter is used.
@pytest.mark.parametrize("enable", ["", "true"])
def test_application_insights_gets_the_invocation_as_a_request(
    start_host: StartHost, enable: str
) -> None:
    with ai_ingestion() as ingestion:
        key = "11111111-2222-3333-4444-555555555555"
        connection = f"InstrumentationKey={key};IngestionEndpoint={ingestion.endpoint}/"
        env = {
            "APPLICATIONINSIGHTS_CONNECTION_STRING": connection,
            # The exporter's own usage statistics go to Microsoft's hosts: not from a test.
            "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "PYTHON_ENABLE_OPENTELEMETRY": enable,
        }
        host = start_host("tracing", env=env)
        assert "Invocations are traced (OpenTelemetry: Azure Monitor)" in host.output
        _, trace_id, span_id, _ = get(host, "/api/traced").text.split("-")

        request = ingestion.wait_for("Request", "traced")
        assert request["iKey"] == key
        assert request["tags"]["ai.operation.id"] == trace_id  # type: ignore[index]
        assert request["data"]["baseData"]["id"] == span_id  # type: ignore[index]
        props = request["data"]["baseData"]["properties"]  # type: ignore[index]
        assert props["faas.name"] == "traced"
        inner = ingestion.wait_for("RemoteDependency", "inner work")
        assert inner["tags"]["ai.operation.parentId"] == span_id  # type: ignore[index]
        host.stop()
        assert key not in host.output and ingestion.endpoint not in host.output
