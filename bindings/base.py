"""The contracts between the worker, the host and every binding module.

A binding module provides a ``BindingProvider``; the registry maps a function.json ``type``
string to it. Triggers are handed a ``Dispatch`` callable and never import the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from funchost.config_section import Section
from funchost.errors import BindingError

if TYPE_CHECKING:
    from aiohttp import web
    from azure.functions.meta import Datum


# A Datum whose value is already the Python object the function takes or gave: the HTTP
# trigger builds func.HttpRequest itself and writes func.HttpResponse straight out, because
# that path runs for every request and its values are the library's own types.
NATIVE = "funchost:native"


@dataclass(frozen=True)
class BindingSpec:
    """One entry of a function's function.json ``bindings`` list."""

    name: str
    type: str
    direction: str  # "in", "out" or "inout", lower-cased
    properties: Mapping[str, Any]
    data_type: str | None = None

    @property
    def is_trigger(self) -> bool:
        """Whether this binding starts invocations (function.json convention)."""
        return self.type.lower().endswith("trigger")

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> BindingSpec:
        """Build from the JSON form that ``Function.get_function_json()`` gives."""
        props = {k: v for k, v in raw.items() if k not in ("name", "type", "direction")}
        return cls(
            name=str(raw.get("name", "")),
            type=str(raw.get("type", "")),
            direction=str(raw.get("direction", "in")).lower(),
            properties=props,
            data_type=raw.get("dataType"),
        )


@dataclass
class TriggerEvent:
    """What a trigger hands to the worker: the payload and its metadata as Datums."""

    data: Datum
    metadata: dict[str, Datum] = field(default_factory=dict)
    reason: str = "This function was programmatically called via the host APIs."
    # Logged as "Trigger Details: k: v, ..." after the Executing line (FunctionExecutor does).
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class InvocationResult:
    """Encoded outputs of one successful invocation, keyed by binding name ('$return' too)."""

    invocation_id: str
    outputs: dict[str, Datum] = field(default_factory=dict)


Dispatch = Callable[[TriggerEvent], Awaitable[InvocationResult]]
HttpHandler = Callable[["web.BaseRequest", dict[str, str]], Awaitable["web.StreamResponse"]]


@dataclass(frozen=True)
class Description:
    """How a listener presents its function: the start-up report's text, and a URL to call."""

    text: str
    url: str | None = None  # admin's invoke_url_template: the function's own HTTP address


class TriggerListener(Protocol):
    """Brings events in and dispatches them; the host owns its lifecycle.

    The host starts every listener once the HTTP server listens and stops them all at once,
    with one deadline, on shutdown or drain. ``stop`` must stop intake, let invocations in
    flight finish until the deadline, cancel what is still running then, and settle what it
    took (delete, complete, checkpoint) under ``asyncio.shield``, so nothing it received is
    lost: a message either settles or comes back.
    """

    def describe(self, base_url: str) -> Description:
        """What the start-up report prints after the function's name."""
        ...

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """The event for ``POST /admin/functions/<name>`` with ``{"input": payload}``.

        None when the trigger cannot be started that way (HTTP functions are called directly).
        """
        ...

    async def start(self) -> None:
        """Begin intake in the background; raise only when the listener cannot run at all."""
        ...

    async def stop(self, deadline: float) -> None:
        """Stop intake; in-flight invocations get until ``deadline`` (the loop's clock)."""
        ...


class InputBinding(Protocol):
    """Fetches the data for one input parameter of one invocation."""

    async def fetch(self, event: TriggerEvent) -> Datum | None: ...


class OutputBinding(Protocol):
    """Writes the encoded value of one output parameter after a successful invocation."""

    async def write(self, datum: Datum, event: TriggerEvent) -> None: ...


class HttpRouter(Protocol):
    """The host's HTTP server, as triggers see it: a place to register webhooks and system routes.

    The HTTP trigger's function routes are its own part of the contract (bindings/http's
    ``FunctionRouter``), with the answer types that only HTTP functions use.
    """

    def add_webhook(self, extension: str, function_name: str, handler: HttpHandler) -> None:
        """Serve ``/runtime/webhooks/<extension>?functionName=<function_name>``.

        When auth is enforced, the caller needs the system key ``<extension>_extension``
        (or the master key), as the Functions host requires.
        """
        ...

    def add_system_route(
        self,
        path: str,
        methods: frozenset[str] | None,
        handler: HttpHandler,
        function_name: str,
        auth_level: str = "admin",
    ) -> None:
        """An exact path outside routePrefix, such as ``/admin/warmup``."""
        ...


def _nothing_unavailable(kind: str) -> str | None:
    return None


def _log_warning(text: str) -> None:
    logging.getLogger("funchost.bindings").warning("%s", text)


@dataclass(frozen=True)
class BindingContext:
    """Everything a binding may need from the host, without importing it."""

    function_name: str
    script_root: Path
    settings: Mapping[str, str]
    # host.json after its overrides; each binding reads its own section (extensions.queues...).
    host_json: Section
    function_bindings: tuple[BindingSpec, ...] = ()
    http: HttpRouter | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("funchost.bindings"))
    # Why the local emulator of a LocalService kind cannot be had on this machine (nothing
    # runs it and funchost cannot start it), with what to do; None when it can, or when that
    # is not for funchost to judge (--no-azurite, --strict, `funchost check`). A function,
    # not a value: only a binding whose connection points at the emulator pays for the probe.
    unavailable: Callable[[str], str | None] = _nothing_unavailable
    # A warning for the start-up report; the same text from several functions is shown once.
    warn: Callable[[str], None] = _log_warning


@dataclass(frozen=True)
class LocalService:
    """A local emulator a binding's connection points at, which ``funchost start`` may start."""

    kind: str  # "azurite" today; the AMQP and Cosmos DB peers later
    setting: str  # the connection setting that names it, for the start-up line


class BindingProvider:
    """Base for a binding type; override the roles the type supports."""

    type_name: str = ""
    # Whether @app.retry and host.json "retry" apply to this trigger. The Functions host
    # applies them to timer, Event Hubs, Cosmos DB and Kafka triggers; queue, blob and
    # Service Bus triggers keep their own redelivery and poison rules.
    honours_retry: bool = False

    def trigger(
        self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch
    ) -> TriggerListener:
        """Create (not start) the listener of a trigger binding."""
        raise BindingError(self._unsupported("a trigger"))

    def input(self, spec: BindingSpec, ctx: BindingContext) -> InputBinding:
        """Create the fetcher of an input binding."""
        raise BindingError(self._unsupported("an input binding"))

    def output(self, spec: BindingSpec, ctx: BindingContext) -> OutputBinding | None:
        """Create the writer of an output binding; None when the trigger consumes it."""
        raise BindingError(self._unsupported("an output binding"))

    def local_services(self, spec: BindingSpec, ctx: BindingContext) -> list[LocalService]:
        """The local emulators this binding will use (none by default).

        Called for every binding before the host starts, so ``funchost start`` can start
        them. Must not raise for a configuration problem that ``trigger()``/``input()``/
        ``output()`` report: return no service.
        """
        return []

    async def aclose(self) -> None:
        """Close the SDK clients this type opened; called once, after every listener stopped."""

    def _unsupported(self, role: str) -> str:
        return f"binding type '{self.type_name}' cannot be used as {role}"


ListenerFactory = Callable[[BindingSpec, BindingContext, Dispatch], TriggerListener]


class TriggerProvider(BindingProvider):
    """A trigger type that is only its listener, built from the binding and the dispatch."""

    def __init__(self, type_name: str, listener: ListenerFactory) -> None:
        self.type_name = type_name
        self._listener = listener

    def trigger(
        self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch
    ) -> TriggerListener:
        """Build the listener now, so a bad binding disables its function at load."""
        return self._listener(spec, ctx, dispatch)
