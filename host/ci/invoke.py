"""``funchost invoke NAME``: run one function of a running host (or of an in-process one).

Through the admin API, as the Functions host offers it: a non-HTTP function is started with
``POST /admin/functions/NAME`` and its input, which answers 202 without waiting for the
outcome (the host's log has it); an HTTP function is called at its own URL instead, since
the admin API refuses those, and its response is printed. ``--local`` loads the app in this
process (the pytest plugin's host) and prints what each output binding got.
"""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from funchost.errors import FunchostError

KEY_HEADER = "x-functions-key"
_TIMEOUT = 60.0  # one request; an HTTP function slower than this is reported as a failure


@dataclass(frozen=True)
class Outcome:
    """What to print (stdout), what to say (stderr) and whether it went well."""

    ok: bool
    out: str = ""
    note: str = ""


def _request(
    url: str, key: str | None, method: str = "GET", body: bytes | None = None
) -> tuple[int, bytes]:
    headers = {KEY_HEADER: key} if key else {}
    if body is not None:
        headers["Content-Type"] = _content_type(body)
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        # The URL only: a query could carry a key.
        raise FunchostError(f"cannot reach the host at {urlsplit(url).netloc}: {reason}") from None


def _content_type(body: bytes) -> str:
    """JSON when the body parses as JSON (the admin API's always does), else plain text."""
    try:
        json.loads(body)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


def invoke_remote(base: str, name: str, data: str | None, key: str | None) -> Outcome:
    """Start (non-HTTP) or call (HTTP) the function ``name`` of the host at ``base``."""
    base = base.rstrip("/")
    status, body = _request(f"{base}/admin/functions/{quote(name)}", key)
    if status == 404:
        return Outcome(False, note=f"the host at {base} has no function named {name!r}")
    if status in (401, 403):
        return Outcome(False, note="the host checks keys: pass --key (or FUNCTIONS_MASTER_KEY)")
    info = json.loads(body)
    if info.get("isDisabled"):
        return Outcome(False, note=f"function {name!r} is disabled: {info.get('errors') or ''}")
    if info.get("trigger") == "httpTrigger":
        return _call_http(base, info, data, key)
    doc = json.dumps({"input": data or ""}).encode()
    status, body = _request(f"{base}/admin/functions/{quote(name)}", key, "POST", doc)
    if status != 202:
        return Outcome(False, note=f"the host answered {status}: {body.decode(errors='replace')}")
    return Outcome(True, note=f"{info['name']}: accepted (202); its outcome is in the host's log")


def _call_http(base: str, info: dict[str, Any], data: str | None, key: str | None) -> Outcome:
    path = urlsplit(str(info.get("invoke_url_template", ""))).path
    if "{" in path:
        return Outcome(False, note=f"{info['name']}'s route has parameters ({path}): call it")
    method = "GET" if data is None else "POST"
    body = None if data is None else data.encode()
    status, answer = _request(base + path, key, method, body)
    text = answer.decode(errors="replace")
    return Outcome(status < 400, out=text, note=f"{method} {path}: {status}")


def invoke_local(script_root: Path, name: str, data: str | None) -> Outcome:
    """Load the app here, run a non-HTTP function once with its outputs recorded, print them.

    HTTP functions need a listening host: ``funchost start`` and ``funchost invoke`` do that.
    """
    from funchost.host.testing.session import AppSession  # the in-process host, on demand

    session = AppSession()
    try:
        # stdout is for the outputs' document: the app's own prints go to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            invocation = session.app(script_root, record_outputs=True).invoke(name, data)
    except FunchostError as exc:
        text = str(exc).replace("app.invoke", "funchost invoke --local")
        return Outcome(False, note=text.replace("app.http", "funchost invoke without --local"))
    except Exception as exc:  # the function's own exception, re-raised by app.invoke
        return Outcome(False, note=f"function {name!r} failed: {type(exc).__name__}: {exc}")
    finally:
        session.close()
    doc = {"invocationId": invocation.invocation_id, "outputs": invocation.outputs}
    return Outcome(True, out=json.dumps(doc, default=str, indent=2))
