"""--json-logs: every line the host prints is one JSON object with the same keys."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from conftest import StartHost
from supervisor_helpers import concurrently

KEYS = {
    "timestamp",
    "level",
    "category",
    "functionName",
    "invocationId",
    "message",
    "exception",
}


def call(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def parsed(output: str) -> list[dict[str, Any]]:
    """Every line as JSON; a line that does not parse fails the test with its text."""
    docs = []
    for line in output.splitlines():
        try:
            docs.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return docs


def test_every_line_parses_and_names_function_invocation_and_exception(
    start_host: StartHost,
) -> None:
    host = start_host("json_logs", "--json-logs")
    assert call(f"{host.base_url}/api/talk") == 200
    assert call(f"{host.base_url}/api/caught") == 200
    assert call(f"{host.base_url}/api/fails") == 500
    host.wait_for("Exception while executing function: Functions.fails")
    assert host.stop() == 0
    docs = parsed(host.output)
    assert all(set(doc) == KEYS for doc in docs), docs
    by_message = {doc["message"]: doc for doc in docs}

    started = next(d for d in docs if d["message"].startswith("Host started in "))
    assert started["category"] == "Host.Startup"
    assert started["invocationId"] is None
    assert any(d["message"].startswith("talk: [GET,") for d in docs)  # the report

    user = by_message["user line"]
    assert (user["category"], user["functionName"], user["level"]) == (
        "Function.talk.User",
        "talk",
        "INFO",
    )
    printed = by_message["printed line"]
    assert printed["category"] == "Host.Function.Console"
    assert user["invocationId"]
    assert printed["invocationId"] == user["invocationId"]

    logged = by_message["looked up a key that is not there"]
    assert logged["level"] == "ERROR"
    assert logged["exception"].startswith("Traceback (most recent call last):")
    assert logged["exception"].endswith("KeyError: 'absent'")

    failure = by_message["Exception while executing function: Functions.fails"]
    assert failure["functionName"] == "fails"
    assert failure["exception"].startswith("Exception: KeyError: 'missing-key'\nStack: ")
    assert by_message["Host stopped."]["category"] == "Host.General"


def test_lines_stay_whole_json_under_workers(start_host: StartHost) -> None:
    # Two processes writing at once: the supervisor relays whole lines, never a mix of two.
    host = start_host("json_logs", "--json-logs", "--workers", "2", "--no-azurite", ready=False)
    host.wait_for("worker(s) serving")
    assert concurrently(20, lambda: call(f"{host.base_url}/api/caught")) == [200] * 20
    assert host.stop() == 0
    docs = parsed(host.output)
    assert all(set(doc) == KEYS for doc in docs), docs
    logged = [d for d in docs if d["message"] == "looked up a key that is not there"]
    assert len(logged) == 20
    assert all(d["exception"].endswith("KeyError: 'absent'") for d in logged)
    assert any(d["message"].startswith("2 worker(s) serving") for d in docs)  # the supervisor's
