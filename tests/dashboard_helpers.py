"""The dashboard fixture app, started with real ``funchost start`` on the test Azurite."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from azurite import Azurite
from conftest import Host, StartHost

APP = "dashboard"
FUNCTIONS = ("hello", "retired", "standup", "work")
RETIRED_REASON = "Function 'retired' is disabled (app setting AzureWebJobs.retired.Disabled)."


@dataclass
class Dashboard:
    """A started host of the dashboard app and the queue its ``work`` function reads."""

    host: Host
    queue: str


def start_dashboard(
    start_host: StartHost, azurite: Azurite, *args: str, env: dict[str, str] | None = None
) -> Dashboard:
    """The fixture app with a queue of its own (a fresh name per test)."""
    queue = f"dash-{uuid.uuid4().hex[:12]}"
    settings = {"AzureWebJobsStorage": azurite.connection_string, "DASH_QUEUE": queue}
    settings.update(env or {})
    return Dashboard(start_host(APP, "--no-azurite", *args, env=settings), queue)


def request(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """Status and text of one request; an error status is returned, not raised."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def api(host: Host, path: str, headers: dict[str, str] | None = None) -> Any:
    """A dashboard document, which must answer 200."""
    status, text = request(f"{host.base_url}/admin/ui/api/{path}", headers=headers)
    assert status == 200, text
    return json.loads(text)
