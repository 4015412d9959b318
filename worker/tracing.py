"""OpenTelemetry: each invocation a span, the parent of whatever the function traces itself.

The Functions host (telemetryMode OpenTelemetry) tags its invocation activity with faas.name
and faas.trigger and hands the worker that activity's traceparent; the Python worker attaches
it as the current context, so the function's own spans are children of the host's. funchost is
both: it starts the span here, gives the function its traceparent (``context.trace_context``)
and makes it the current span while the function runs, in its task or its thread.

Imported only when tracing is on (host/telemetry.py decides), so a host without
opentelemetry installed never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping

from azure.functions.meta import Datum
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

# The span kind a trigger's invocation is: a request served, a message consumed, or work the
# host started itself (a timer, an admin call of a non-HTTP function).
_CONSUMER_TRIGGERS = frozenset(
    {
        "queueTrigger",
        "serviceBusTrigger",
        "eventHubTrigger",
        "blobTrigger",
        "cosmosDBTrigger",
        "eventGridTrigger",
    }
)
_PROPAGATOR = TraceContextTextMapPropagator()


class InvocationSpan:
    """One invocation's span, current in the invocation's context until ``end``."""

    __slots__ = ("_span", "_token", "traceparent", "tracestate")

    def __init__(self, span: trace.Span, tracestate: str) -> None:
        self._span = span
        ctx = span.get_span_context()
        self.traceparent = f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"
        self.tracestate = tracestate
        self._token = otel_context.attach(trace.set_span_in_context(span))

    def failed(self, exc: BaseException) -> None:
        """Mark the span failed, with the exception as its event."""
        self._span.record_exception(exc)
        self._span.set_status(trace.Status(trace.StatusCode.ERROR, f"{type(exc).__name__}"))

    def end(self) -> None:
        """End the span and restore the context it replaced."""
        otel_context.detach(self._token)
        self._span.end()


class Spans:
    """Starts invocation spans for one function on the tracer provider in use."""

    def __init__(self, function_name: str, trigger_type: str) -> None:
        self._name = function_name
        self._tracer = trace.get_tracer("funchost")
        self._kind = _kind(trigger_type)
        # As the Functions host resolves it: "http" for HTTP, else the binding type itself.
        self._attributes = {
            "faas.name": function_name,
            "faas.trigger": "http" if trigger_type == "httpTrigger" else trigger_type,
        }

    def start(self, metadata: Mapping[str, Datum], invocation_id: str) -> InvocationSpan:
        """A span continuing the caller's trace when the event carries a traceparent."""
        carrier = {
            key: str(datum.value)
            for key in ("traceparent", "tracestate")
            if (datum := metadata.get(key)) is not None
        }
        parent = _PROPAGATOR.extract(carrier) if carrier else None
        continued = (
            parent is not None and trace.get_current_span(parent).get_span_context().is_valid
        )
        span = self._tracer.start_span(
            self._name,
            context=parent,
            kind=self._kind,
            attributes={**self._attributes, "faas.invocation_id": invocation_id},
        )
        # The tracestate travels with the parent it belongs to, as worker/context.py keeps it.
        return InvocationSpan(span, carrier.get("tracestate", "") if continued else "")


def _kind(trigger_type: str) -> trace.SpanKind:
    if trigger_type == "httpTrigger":
        return trace.SpanKind.SERVER
    if trigger_type in _CONSUMER_TRIGGERS:
        return trace.SpanKind.CONSUMER
    return trace.SpanKind.INTERNAL
