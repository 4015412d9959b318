"""Security (issue 19, "what to build" 5): keys compared in constant time and never shown,
admin endpoints behind the master key, secrets files private from the moment they exist."""

from __future__ import annotations

import hmac
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import APPS, READY, Host, StartHost, free_port, host_env, run_funchost
from http_helpers import call, lines_since, mark

from faults.hostile import (
    ACCOUNT_KEY,
    LEAKY_CONNECTION,
    MASTER,
    exchange,
    head,
    hostile_host,
    statuses,
)
from funchost.host.http import keys
from funchost.redact import REDACTED

# Each admin endpoint and what the master key gets from it (400: echo is an HTTP function).
ADMIN = [
    ("GET", "/admin/host/status", 200),
    ("GET", "/admin/functions", 200),
    ("GET", "/admin/functions/echo", 200),
    ("GET", "/admin/host/drain/status", 200),
    ("POST", "/admin/functions/echo", 400),
]


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("secrets")


@pytest.fixture(scope="module")
def host(secrets: Path) -> Iterator[Host]:
    with hostile_host(secrets) as started:
        yield started


def function_key(secrets: Path, name: str) -> str:
    doc = json.loads((secrets / f"{name}.json").read_text())
    return str(doc["keys"][0]["value"])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- keys at rest -----------------------------------------------------------------------


def test_key_files_are_created_private_not_chmod_ed_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chmod after the write leaves a moment when the keys are readable by all: none may run.
    chmods: list[object] = []
    monkeypatch.setattr(os, "chmod", lambda *args, **kw: chmods.append(args))
    monkeypatch.setattr(Path, "chmod", lambda *args, **kw: chmods.append(args))
    old = os.umask(0)  # whatever mode the files get, they get from funchost
    try:
        keys.load_keys(tmp_path, {}, ["echo"])
    finally:
        os.umask(old)
    folder = tmp_path / ".funchost" / "secrets"
    assert chmods == []
    # Every file there, the workers' lock file (keys.py) too, is its owner's alone.
    modes = {p.name: mode(p) for p in folder.iterdir()}
    assert modes == {"host.json": 0o600, "echo.json": 0o600, ".lock": 0o600}
    assert mode(folder) == 0o700


def test_the_funchost_folder_ignores_itself_in_git(tmp_path: Path) -> None:
    keys.load_keys(tmp_path, {}, ["echo"])
    ignore = (tmp_path / ".funchost" / ".gitignore").read_text().splitlines()
    assert "*" in ignore


# --- comparing keys -----------------------------------------------------------------------


def test_keys_are_compared_as_bytes_in_constant_time_against_every_candidate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", spy)
    found = keys.Keys(master="m", host_keys={"h": "host"}, function_keys={"f": {"d": "own"}})
    assert found.allows(keys.FUNCTION, "m", "f")  # the first candidate matches...
    assert len(compared) == 3  # ...and the others are still compared: no early exit
    assert all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in compared)


def test_a_key_that_is_not_utf8_is_refused_not_raised() -> None:
    found = keys.Keys(master="m")
    assert not found.allows(keys.ADMIN, "\udcff\udcfe")  # how a header's 0xff 0xfe arrives


# --- through the running host ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "status"), ADMIN)
def test_admin_endpoints_need_the_master_key_not_a_function_key(
    host: Host, secrets: Path, method: str, path: str, status: int
) -> None:
    other = function_key(secrets, "keyed")
    assert call(host, method, path).status == 401
    assert call(host, method, path, headers={"x-functions-key": other}).status == 401
    assert call(host, method, path, headers={"x-functions-key": MASTER}).status == status


def test_no_key_or_connection_string_reaches_the_output_or_an_admin_answer(
    host: Host, secrets: Path
) -> None:
    since = mark(host)
    key = function_key(secrets, "leaky")
    assert call(host, "GET", f"/api/leaky?code={key}").status == 500
    assert call(host, "GET", f"/api/keyed?code={key}-wrong").status == 401
    cut = head(f"/api/keyed?code={key}", "Content-Length: 9", method="POST") + b"ab"
    assert statuses(exchange(host, cut, half_close=True)) in ([400], [401])
    lines = lines_since(host, since, "Exception while executing function")
    answers = [
        call(host, "GET", path, headers={"x-functions-key": MASTER}).text
        for path in ("/admin/host/status", "/admin/functions", "/admin/functions/leaky")
    ]
    shown = "\n".join([host.drain(0.3), *answers])
    secret_keys = [MASTER, ACCOUNT_KEY, key, *_all_keys(secrets)]
    for secret in secret_keys:
        assert secret not in shown
    # Not vacuous: the lines that would have held them are there, redacted.
    said = "\n".join(lines)
    assert f"code={REDACTED}" in said
    assert f"AccountKey={REDACTED}" in said


def _all_keys(secrets: Path) -> list[str]:
    found = []
    for path in secrets.glob("*.json"):
        doc = json.loads(path.read_text())
        for section in ("keys", "functionKeys", "systemKeys"):
            found += [entry["value"] for entry in doc.get(section, [])]
        if "masterKey" in doc:
            found.append(doc["masterKey"]["value"])
    return found


def test_off_loopback_without_keys_they_are_generated_and_the_folder_printed(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = host_env({"FUNCTIONS_SECRETS_PATH": str(tmp_path)})  # no FUNCTIONS_MASTER_KEY
    args = ["start", "--port", str(port), "--address", "0.0.0.0", "--no-azurite"]
    started = Host(args, APPS / "http_hostile", env, port)
    try:
        started.wait_for(READY)
        assert f"Auth is enforced: function keys are checked (keys in {tmp_path})" in (
            started.output
        )
        master = json.loads((tmp_path / "host.json").read_text())["masterKey"]["value"]
        assert mode(tmp_path / "host.json") == 0o600
        assert call(started, "GET", "/admin/host/status").status == 401
        reply = call(started, "GET", "/admin/host/status", headers={"x-functions-key": master})
        assert reply.status == 200
        assert master not in started.drain(0.2)
    finally:
        assert started.stop() == 0


LEAKY_BINDING = f'''
import azure.functions as func

app = func.FunctionApp()


@app.queue_trigger(arg_name="msg", queue_name="q", connection="{LEAKY_CONNECTION}")
def leak(msg: func.QueueMessage) -> None:
    pass
'''


def test_a_connection_string_in_a_load_error_is_redacted_everywhere_it_is_shown(
    tmp_path: Path, start_host: StartHost
) -> None:
    # The binding names a connection string where a setting's name belongs: the load error
    # quotes it back, in the check's text and JSON, the start-up report and /admin.
    (tmp_path / "function_app.py").write_text(LEAKY_BINDING)
    (tmp_path / "host.json").write_text('{"version": "2.0"}')
    text = run_funchost(["check"], tmp_path)
    document = run_funchost(["check", "--json"], tmp_path)
    started = start_host(tmp_path, "--no-azurite")
    status = call(started, "GET", "/admin/host/status").text
    functions = call(started, "GET", "/admin/functions").text
    for shown in (text.stdout, text.stderr, document.stdout, started.drain(0.2), status, functions):
        assert ACCOUNT_KEY not in shown
    assert f"AccountKey={REDACTED}" in document.stdout + status  # the error is still shown
