"""Which settings turn tracing on, and what a missing package costs: a warning, never a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from funchost.host import telemetry

SECRET = (
    "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"
)


def test_without_any_setting_nothing_is_set_up(tmp_path: Path) -> None:
    found = telemetry.configure({"AzureWebJobsStorage": "UseDevelopmentStorage=true"}, tmp_path)
    assert (found.traced, found.exporters, found.warnings) == (False, [], [])


def test_an_exporter_whose_package_is_missing_is_a_warning_without_the_secret_fake_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test dependencies include the exporter: its absence is faked at its import.
    def missing(connection: str) -> None:
        raise ImportError("No module named 'azure.monitor'")

    monkeypatch.setattr(telemetry, "_ai_exporter", missing)
    found = telemetry.configure({telemetry.AI_CONNECTION: SECRET}, tmp_path)
    assert found.traced  # the app may still set up a provider of its own
    assert found.exporters == []
    [warning] = found.warnings
    assert "azure-monitor-opentelemetry-exporter is not installed" in warning
    assert "InstrumentationKey" not in warning and "127.0.0.1" not in warning


def test_python_enable_opentelemetry_alone_traces_into_the_apps_provider(tmp_path: Path) -> None:
    found = telemetry.configure({telemetry.ENABLE: "true"}, tmp_path)
    assert (found.traced, found.exporters, found.warnings) == (True, [], [])
