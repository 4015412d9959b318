"""The handle ``funchost_app(...)`` returns: one app, loaded by the real host, served in-process.

``app.http`` calls its HTTP functions over real HTTP; ``app.invoke`` runs any function the way
the admin API does (the trigger's ``admin_event``, then the function's invoker, with the
real converters), and returns what each output binding got.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from azure.functions.meta import Datum

from funchost.errors import FunchostError
from funchost.host.app_host import Host
from funchost.host.testing.client import HttpClient
from funchost.host.testing.loop import LoopThread
from funchost.host.testing.recorder import Recorder, recording
from funchost.worker.invoker import InvocationFailed
from funchost.worker.wiring import LoadedFunction

DEFAULT_TIMEOUT = 60.0  # an HTTP request or an invocation; a stuck one fails the test
_STOP_MARGIN = 10.0  # beyond the host's own shutdown timeout


class AppUsageError(FunchostError):
    """A test asked the app for something it does not have (a function, an HTTP trigger)."""


@dataclass(frozen=True)
class Invocation:
    """One ``app.invoke``: its id and the outputs the function set, by binding name."""

    invocation_id: str
    datums: Mapping[str, Datum]

    @property
    def outputs(self) -> dict[str, Any]:
        """Each output's value as its converter encoded it ('$return' too); JSON parsed."""
        return {name: datum.python_value for name, datum in self.datums.items()}

    @property
    def return_value(self) -> Any:
        """The '$return' output's value, None when the function has none or returned None."""
        datum = self.datums.get("$return")
        return None if datum is None else datum.python_value


class FunchostApp:
    """One app under test: ``http``, ``invoke``, ``recorded``, ``url``, ``report``."""

    def __init__(self, host: Host, loop: LoopThread, recorder: Recorder, report: str) -> None:
        self._host = host
        self._loop = loop
        self.path: Path = host.options.script_root
        self.port: int = host.options.port
        address = _client_address(host.options.address)
        shown = f"[{address}]" if ":" in address else address
        self.base_url = f"http://{shown}:{self.port}"
        self.http = HttpClient(address, self.port, DEFAULT_TIMEOUT)
        # Outputs that were recorded instead of written (record_outputs, or invoke(record=True)).
        self.recorded = recorder
        self.report = report  # what `funchost start` prints at start-up, for a failing test
        self._stopped = False

    @property
    def functions(self) -> list[str]:
        """The names of the functions served."""
        return sorted(f.spec.name for f in self._host.state.functions)

    def url(self, path: str) -> str:
        """The full URL of a path, for a client of the test's own choice."""
        return self.base_url + (path if path.startswith("/") else f"/{path}")

    def invoke(
        self,
        name: str,
        payload: Any = None,
        *,
        record: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        **metadata: Any,
    ) -> Invocation:
        """Run a non-HTTP function with this trigger payload, as ``POST /admin/functions``.

        ``payload``: text, bytes (UTF-8) or a JSON value: a queue or Service Bus message's
        body, an Event Hubs event's body, Cosmos DB documents, an Event Grid event, a blob's
        "container/name" (read from storage); ignored by timer and warmup triggers.
        ``metadata``: trigger metadata to set or replace (``DequeueCount=3``).
        ``record``: record this invocation's outputs (``app.recorded``) instead of writing them.
        The function's own exception is raised again here.
        """
        function = self._function(name)
        extra = {key: _datum(value) for key, value in metadata.items()}
        coro = _invoked(function, _payload_text(payload), extra, record)
        return self._loop.run(coro, timeout, f"app.invoke({name!r})")

    def stop(self) -> None:
        """Close the client's connections, then shut the host down as `funchost start` does.

        The session does this at its end; a second call does nothing.
        """
        if self._stopped:
            return
        self._stopped = True
        self.http.close()  # first: idle keep-alive connections would hold the server's stop up
        timeout = self._host.options.shutdown_timeout + _STOP_MARGIN
        self._loop.run(self._host.shutdown(), timeout, f"stopping the app in {self.path}")

    def _function(self, name: str) -> LoadedFunction:
        function = self._host.control.find(name)
        if function is None:
            raise AppUsageError(
                f"app.invoke: no function named {name!r} is served from {self.path}; "
                f"it serves: {', '.join(self.functions) or 'none'}"
            )
        return function


async def _invoked(
    function: LoadedFunction, payload: str, metadata: dict[str, Datum], record: bool
) -> Invocation:
    """The admin API's path, awaited: the trigger's admin event, then the invoker."""
    event = function.listener.admin_event(payload)
    if event is None:
        raise AppUsageError(
            f"app.invoke: function '{function.spec.name}' has a trigger of type "
            f"{function.spec.trigger.type}, which the admin API does not run: call it "
            "through app.http"
        )
    event.metadata.update(metadata)
    token = recording.set(record)
    try:
        result = await function.invoker(event)
    except InvocationFailed as exc:
        # The function's own exception, for pytest.raises; raised outside this handler so
        # its own chain stays as the function left it.
        failure: Exception = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
    else:
        return Invocation(result.invocation_id, dict(result.outputs))
    finally:
        recording.reset(token)
    raise failure


def _payload_text(payload: Any) -> str:
    """The admin API carries text: str as it is, bytes as UTF-8, anything else as JSON."""
    if payload is None:
        return ""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload).decode("utf-8")
    try:
        return json.dumps(payload)
    except TypeError:
        raise AppUsageError(
            f"app.invoke: a payload of type {type(payload).__name__} cannot be sent; expected "
            "str, bytes, or a JSON value (dict, list, number, bool)"
        ) from None


def _datum(value: Any) -> Datum:
    """A trigger metadata value as the host sends one."""
    if isinstance(value, Datum):
        return value
    if isinstance(value, str):
        return Datum(value, "string")
    if isinstance(value, (bytes, bytearray)):
        return Datum(bytes(value), "bytes")
    if isinstance(value, datetime):
        return Datum(value.isoformat(), "string")
    return Datum(json.dumps(value), "json")


def _client_address(address: str) -> str:
    """Where to connect for a host bound to ``address`` (all interfaces: loopback)."""
    return {"0.0.0.0": "127.0.0.1", "localhost": "127.0.0.1", "::": "::1"}.get(address, address)
