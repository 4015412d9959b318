"""OpenTelemetry set-up: which exporter the settings ask for, and whether invocations are traced.

As the Functions host: ``OTEL_EXPORTER_OTLP_ENDPOINT`` turns on the OTLP exporter,
``APPLICATIONINSIGHTS_CONNECTION_STRING`` the Azure Monitor one, and with
``PYTHON_ENABLE_OPENTELEMETRY`` the Python worker configures the Azure Monitor distro and
makes the host's invocation context the function's current one. funchost is host and worker
in one process, so it does both: it sets up the tracer provider the settings ask for (before
the app is imported, as the worker does) and starts a span for every invocation
(worker/tracing.py). An app that configures its own provider keeps it; its spans and
funchost's then go wherever it sends them.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("funchost.host")

OTLP_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
AI_CONNECTION = "APPLICATIONINSIGHTS_CONNECTION_STRING"
ENABLE = "PYTHON_ENABLE_OPENTELEMETRY"
LOGGER_NAME = "PYTHON_AZURE_MONITOR_LOGGER_NAME"
_OTLP_PACKAGE = "opentelemetry-exporter-otlp-proto-http"
_AI_PACKAGE = "azure-monitor-opentelemetry-exporter"


@dataclass
class Telemetry:
    """What was set up: whether invocations get spans, and how to flush at shutdown."""

    traced: bool = False
    exporters: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _flush: Callable[[], Any] | None = None

    def shutdown(self) -> None:
        """Export what is buffered and stop the provider funchost set up (blocking)."""
        if self._flush is not None:
            self._flush()
            self._flush = None


def configure(settings: Mapping[str, str], script_root: Path) -> Telemetry:
    """Set up tracing from the settings; nothing at all when none of them asks for it."""
    otlp = next((settings[k] for k in OTLP_ENDPOINTS if settings.get(k)), "")
    connection = settings.get(AI_CONNECTION, "")
    enabled = _true(settings.get(ENABLE, ""))
    if not (otlp or connection or enabled):
        return Telemetry()
    if not _installed("opentelemetry.sdk"):
        return _sdk_missing(otlp, connection)
    distro = _distro_configure() if enabled and connection else None
    if distro is not None:
        return _azure_monitor_distro(distro, connection, settings.get(LOGGER_NAME, ""))
    return _own_provider(otlp, connection, settings, script_root)


def _sdk_missing(otlp: str, connection: str) -> Telemetry:
    if not _installed("opentelemetry.trace"):
        asked = "OTEL_EXPORTER_OTLP_ENDPOINT" if otlp else AI_CONNECTION if connection else ENABLE
        return Telemetry(
            warnings=[
                f"{asked} is set, but OpenTelemetry is not installed: invocations are not "
                "traced (pip install opentelemetry-sdk and an exporter)"
            ]
        )
    # The API alone: spans go to whatever provider the app sets up, if it does.
    warnings = []
    if otlp or connection:
        warnings.append(
            "an OpenTelemetry exporter is configured, but opentelemetry-sdk is not "
            "installed: nothing is exported unless the app sets up a provider itself"
        )
    return Telemetry(traced=True, warnings=warnings)


def _distro_configure() -> Callable[..., Any] | None:
    """The distro's ``configure_azure_monitor``, when azure-monitor-opentelemetry is installed.

    Imported to find out: the exporter package alone also makes ``azure.monitor.opentelemetry``
    importable (a namespace for its ``exporter``), without the function.
    """
    try:
        module = importlib.import_module("azure.monitor.opentelemetry")
    except ImportError:
        return None
    found: Callable[..., Any] | None = getattr(module, "configure_azure_monitor", None)
    return found


def _azure_monitor_distro(
    configure: Callable[..., Any], connection: str, logger_name: str
) -> Telemetry:
    """What the Python worker does with PYTHON_ENABLE_OPENTELEMETRY: the distro, configured."""
    configure(connection_string=connection, logger_name=logger_name)
    return Telemetry(traced=True, exporters=["Azure Monitor (distro)"])


def _own_provider(
    otlp: str, connection: str, settings: Mapping[str, str], script_root: Path
) -> Telemetry:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    exporters: list[tuple[str, SpanExporter]] = []
    warnings: list[str] = []
    if otlp:
        _add(exporters, warnings, "OTLP", _OTLP_PACKAGE, _otlp_exporter)
    if connection:
        _add(exporters, warnings, "Azure Monitor", _AI_PACKAGE, lambda: _ai_exporter(connection))
    if not exporters:  # the app may still set up a provider of its own
        return Telemetry(traced=True, warnings=warnings)
    provider = TracerProvider(resource=_resource(settings, script_root))
    for _, exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:  # one was set already: it stays
        provider.shutdown()
        warnings.append("a tracer provider was already set up; funchost's exporters are unused")
        return Telemetry(traced=True, warnings=warnings)
    names = [name for name, _ in exporters]
    return Telemetry(traced=True, exporters=names, warnings=warnings, _flush=provider.shutdown)


def _add(
    exporters: list[tuple[str, Any]],
    warnings: list[str],
    name: str,
    package: str,
    make: Callable[[], Any],
) -> None:
    try:
        exporters.append((name, make()))
    except ImportError:
        warnings.append(f"the {name} exporter is configured but {package} is not installed")


def _otlp_exporter() -> Any:
    # It reads its endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables,
    # which local.settings.json's Values are exported to before this runs.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _ai_exporter(connection: str) -> Any:
    from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter

    return AzureMonitorTraceExporter(connection_string=connection)


def _resource(settings: Mapping[str, str], script_root: Path) -> Any:
    """The service as the Functions host describes itself (FunctionsResourceDetector)."""
    from opentelemetry.sdk.resources import Resource

    attributes = {"cloud.provider": "azure", "cloud.platform": "azure_functions"}
    if not settings.get("OTEL_SERVICE_NAME"):  # Resource.create reads it itself
        attributes["service.name"] = settings.get("WEBSITE_SITE_NAME") or script_root.name
    return Resource.create(attributes)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def _true(value: str) -> bool:
    return value.strip().lower() in ("1", "true")
