"""Bad configuration (issue 19, "what to build" 4): host.json, local.settings.json, the
settings funchost reads, timer schedules and binding expressions, fuzzed with hypothesis.

Whatever the file or text holds, the parser either takes it or raises funchost's own error
(ConfigError, BindingError: a message naming the file or setting), never anything else and
never a hang (hypothesis' deadline). A few fuzzed host.json files also go through
``funchost check``: a one-line error and exit 3, no traceback.
"""

from __future__ import annotations

import json
import string
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import APPS, run_funchost
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from funchost.bindings.shared.connections import resolve_setting_refs
from funchost.bindings.shared.expressions import compile_template
from funchost.bindings.timer.schedule import parse_schedule
from funchost.errors import FunchostError
from funchost.host.hostjson import load_host_config
from funchost.host.http.limits import body_limit
from funchost.host.http.rates import data_rates
from funchost.host.settings import load_local_settings

# Bounded: the module runs in seconds.
FAST = settings(
    max_examples=150,
    deadline=2000,  # ms: one parse taking this long is a hang
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)

# Keys host.json has, so the fuzz reaches the checks behind them, not only "unknown key".
HOST_KEYS = [
    "version",
    "functionTimeout",
    "logging",
    "extensions",
    "aggregator",
    "watchDirectories",
]
HTTP_KEYS = [
    "routePrefix",
    "maxConcurrentRequests",
    "maxOutstandingRequests",
    "dynamicThrottlesEnabled",
]
host_docs = st.fixed_dictionaries(
    {},
    optional={
        "version": st.one_of(st.just("2.0"), json_values),
        "functionTimeout": st.one_of(st.sampled_from(["00:05:00", "-1", "1.00:00:00"]), scalars),
        "logging": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"logLevel": st.dictionaries(st.sampled_from(["default", "Function"]), scalars)}
            ),
        ),
        "extensions": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"http": st.dictionaries(st.sampled_from(HTTP_KEYS), json_values, max_size=4)}
            ),
        ),
    },
).flatmap(
    lambda doc: st.dictionaries(st.sampled_from(HOST_KEYS), json_values).map(
        lambda extra: {**extra, **doc}
    )
)

OVERRIDES = [
    f"AzureFunctionsJobHost__{path}"
    for path in ("functionTimeout", "extensions__http__routePrefix", "logging__logLevel__default")
]

settings_docs = st.fixed_dictionaries(
    {},
    optional={
        "IsEncrypted": scalars,
        "Values": st.one_of(json_values, st.dictionaries(st.text(max_size=12), scalars)),
        "ConnectionStrings": json_values,
        "Host": st.one_of(
            json_values,
            st.dictionaries(
                st.sampled_from(["LocalHttpPort", "CORS", "CORSCredentials"]), json_values
            ),
        ),
    },
)


def _write(folder: Path, name: str, content: str | bytes) -> None:
    target = folder / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8", errors="surrogatepass")


def _dumps(doc: Any) -> str:
    return json.dumps(doc, allow_nan=True)


@FAST
@given(
    doc=host_docs,
    overrides=st.dictionaries(
        st.sampled_from(
            [
                "AzureFunctionsJobHost__functionTimeout",
                "AzureFunctionsJobHost__extensions__http__routePrefix",
                "AzureFunctionsJobHost__logging__logLevel__default",
                "AzureFunctionsJobHost__version",
            ]
        ),
        st.text(max_size=20),
    ),
)
def test_host_json_is_taken_or_refused_clearly(
    tmp_path: Path, doc: dict[str, Any], overrides: dict[str, str]
) -> None:
    _write(tmp_path, "host.json", _dumps(doc))
    try:
        load_host_config(tmp_path, overrides)
    except FunchostError as exc:
        assert "host.json" in str(exc) or any(k in str(exc) for k in overrides)


@FAST
@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_a_host_json_that_is_not_json_is_refused_naming_the_file(
    tmp_path: Path, content: str | bytes
) -> None:
    _write(tmp_path, "host.json", content)
    try:
        load_host_config(tmp_path, {})
    except FunchostError as exc:
        assert "host.json" in str(exc)


@FAST
@given(doc=st.one_of(settings_docs, json_values), raw=st.binary(max_size=60))
def test_local_settings_json_is_taken_or_refused_naming_the_file(
    tmp_path: Path, doc: Any, raw: bytes
) -> None:
    for content in (_dumps(doc), raw):
        _write(tmp_path, "local.settings.json", content)
        try:
            load_local_settings(tmp_path)
        except FunchostError as exc:
            assert "local.settings.json" in str(exc)


@FAST
@given(value=st.text(max_size=25))
def test_settings_funchost_reads_are_taken_or_refused_naming_the_setting(value: str) -> None:
    for name, read in (
        ("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT", body_limit),
        ("FUNCHOST_MIN_DATA_RATE", data_rates),
        ("FUNCHOST_DATA_RATE_GRACE", data_rates),
        ("FUNCHOST_REQUEST_HEADERS_TIMEOUT", data_rates),
    ):
        try:
            read({name: value})
        except FunchostError as exc:
            assert name in str(exc)


cron_fields = st.one_of(
    st.sampled_from(["*", "*/5", "0", "1-5", "MON-FRI", "JAN", "?", "L", "#"]),
    st.text(alphabet=string.digits + "*/,-", min_size=1, max_size=6),
)
schedules = st.one_of(
    st.lists(cron_fields, min_size=1, max_size=7).map(" ".join),
    st.text(max_size=30),
    st.sampled_from(["00:00:00", "-00:01:00", "24:00:00", "1.02:03:04", "10675199.02:48:05"]),
)


@FAST
@given(text=schedules)
@example(text="10000000.0:0")  # found by this test: its next run overflowed the date
def test_a_schedule_is_taken_or_refused_and_its_next_run_found(text: str) -> None:
    try:
        schedule = parse_schedule(text, timezone.utc)
    except FunchostError as exc:
        assert "schedule" in str(exc).lower()
        return
    now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    try:
        assert schedule.next_after(now) > now  # e.g. "0 0 0 30 2 *" never comes: said so
    except FunchostError as exc:
        assert "schedule" in str(exc).lower()


expressions = st.text(alphabet='{}%.:-abcDT_ 09"', max_size=30)
payloads = st.dictionaries(st.sampled_from(["a", "b", "DateTime", "c.d"]), json_values, max_size=3)


@FAST
@given(text=expressions, values=payloads)
def test_a_binding_expression_is_filled_in_or_refused_naming_the_binding(
    text: str, values: dict[str, Any]
) -> None:
    where = "function 'f', binding 'out'"
    try:
        template = compile_template(text, where)
        assert isinstance(template.render(values), str)
    except FunchostError as exc:
        assert "'f'" in str(exc) or "out" in str(exc)


@FAST
@given(text=expressions, known=st.dictionaries(st.text("abcD_", max_size=5), st.text(max_size=5)))
def test_a_setting_reference_is_resolved_or_refused_naming_the_setting(
    text: str, known: dict[str, str]
) -> None:
    try:
        assert isinstance(resolve_setting_refs(text, known, where="binding 'out'"), str)
    except FunchostError as exc:
        assert "binding 'out'" in str(exc)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=host_docs)
def test_funchost_check_refuses_a_fuzzed_host_json_in_one_line(
    tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any]
) -> None:
    app = tmp_path_factory.mktemp("app")
    (app / "function_app.py").write_text((APPS / "cli_basic" / "function_app.py").read_text())
    _write(app, "host.json", _dumps({**doc, "version": doc.get("version", [])}))
    done = run_funchost(["check"], app, timeout=60)
    assert "Traceback" not in done.stderr + done.stdout
    if done.returncode != 0:
        assert done.returncode == 3
        assert done.stderr.startswith("funchost: ") and "host.json" in done.stderr
