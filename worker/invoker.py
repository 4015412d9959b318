"""One invocation: decode inputs → placeholders → call → collect outputs → write them.

Each step is a small function; the sequence is the official worker's, without its dispatcher.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import azure.functions as func
from azure.functions.meta import Datum

from funchost.bindings.base import InputBinding, InvocationResult, OutputBinding, TriggerEvent
from funchost.bindings.http.stream import STREAM_PROPERTY, STREAM_REQUEST
from funchost.errors import BindingError, FunchostError, InvocationTimeout
from funchost.worker import converters, http_streams
from funchost.worker.context import (
    WRITE_LATER,
    Context,
    InvocationInfo,
    RetryContext,
    RpcException,
    TraceContext,
    current_invocation,
    running,
    trace_context,
)
from funchost.worker.history import Ended, Ring
from funchost.worker.indexer import FunctionSpec
from funchost.worker.loader import user_traceback
from funchost.worker.retry import RetryPolicy, with_retries
from funchost.worker.runner import Runner

if TYPE_CHECKING:
    from funchost.worker.tracing import InvocationSpan, Spans

log = logging.getLogger("funchost.function")
LevelFor = Callable[[str], int]


class Out(func.Out[Any]):
    """The placeholder a function sets for an ``Out[...]`` parameter."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        """Store the value to write after the function returns."""
        self._value = val

    def get(self) -> Any:
        """The stored value, None when never set."""
        return self._value


class InvocationFailed(Exception):
    """The function (or one of its bindings) failed; already logged."""


class Invoker:
    """Invokes one function; it is the ``Dispatch`` callable its trigger is handed."""

    def __init__(
        self,
        spec: FunctionSpec,
        runner: Runner,
        inputs: Mapping[str, InputBinding],
        outputs: Mapping[str, OutputBinding | None],
        retry: RetryPolicy | None = None,
        level_for: LevelFor | None = None,
    ) -> None:
        """``level_for``: host.json's level of a log category, asked once for the function's."""
        self.spec = spec
        self.retry = retry
        self._runner = runner
        self._inputs = inputs
        # Precomputed so an invocation without Out parameters or writers skips their loops;
        # an output without a writer (http: the trigger answers with it) is only collected.
        self._out_params = tuple(p for p in spec.params if p.is_out)
        self._writers = {name: w for name, w in outputs.items() if w is not None}
        self.in_flight = 0
        self._trigger_name = spec.trigger.name
        self._category = f"Function.{spec.name}"
        self._extra = {"category": self._category}
        self._extra_later = {"category": self._category, WRITE_LATER: True}
        # Set by wiring when the trigger's listener acts on an outcome only in a later turn of
        # the event loop: the Executed line may then wait to be written with the next line.
        self.executed_may_wait = False
        # Decided here, not per invocation: when host.json turns the category down, the
        # Executing/Executed lines are not even built (the root logger is never above it).
        self._log_info = level_for is None or level_for(self._category) <= logging.INFO
        self._qualified = f"Functions.{spec.name}"
        # The official worker encodes $return even when it is None; the library's http
        # converter refuses None, so an HTTP function whose response is its return value
        # fails when it returns nothing (other types' None is left unwritten, as before).
        # A streamed function (bindings/http/stream.py) has sent its response itself.
        ret = spec.return_binding
        streamed = bool(spec.trigger.properties.get(STREAM_PROPERTY))
        # A function taking the HTTP streams extension's Request: its return value is sent.
        self._responds = spec.trigger.properties.get(STREAM_PROPERTY) == STREAM_REQUEST
        self._none_refused = ret is not None and ret.type.lower() == "http" and not streamed
        # OpenTelemetry: set by the host when tracing is on (host/telemetry.py).
        self.spans: Spans | None = None
        # Set by the host when it keeps recent invocations (the dashboard): one append each.
        self.history: Ring | None = None

    def route_outputs(self, route: Callable[[str, OutputBinding], OutputBinding]) -> None:
        """Put ``route(name, writer)`` in place of each output writer (the pytest plugin
        records outputs this way instead of sending them)."""
        self._writers = {name: route(name, writer) for name, writer in self._writers.items()}

    async def __call__(self, event: TriggerEvent) -> InvocationResult:
        """Run the function for this event, retried per its policy; InvocationFailed at the end."""
        self.in_flight += 1
        try:
            if self.retry is None:  # the common case, without the retry loop's frames
                return await self._attempt(event, 0)
            return await self._retried(event, self.retry)
        finally:
            self.in_flight -= 1

    async def _retried(self, event: TriggerEvent, policy: RetryPolicy) -> InvocationResult:
        """Attempts under the policy; each one's context names the failure before it."""
        failure: BaseException | None = None

        async def attempt(retry_count: int) -> InvocationResult:
            nonlocal failure
            try:
                return await self._attempt(event, retry_count, failure)
            except InvocationFailed as exc:
                failure = exc.__cause__ or exc
                raise

        return await with_retries(policy, attempt, self._qualified)

    async def _attempt(
        self, event: TriggerEvent, retry_count: int, failure: BaseException | None = None
    ) -> InvocationResult:
        """One invocation, with its own id, as the Functions host runs each retry."""
        invocation_id = _new_id()
        info = InvocationInfo(invocation_id, self.spec.name)
        token = current_invocation.set(info)
        if self._log_info:
            self._log_executing(event, invocation_id)
        started = time.perf_counter()
        span = self.spans.start(event.metadata, invocation_id) if self.spans else None
        try:
            outputs = await self._run(event, info, retry_count, failure, span)
        except BaseException as exc:
            self._log_failure(exc, invocation_id, started)
            self._record(event, invocation_id, retry_count, started, exc)
            if span is not None:
                span.failed(exc)
            # sys.exit() in a function ends that invocation, never the host (a SystemExit
            # reaching the loop would stop it); cancellation propagates as it is.
            if isinstance(exc, (Exception, SystemExit)):
                raise InvocationFailed(str(exc)) from exc
            raise
        else:
            self._succeeded(event, invocation_id, retry_count, started)
            return InvocationResult(invocation_id, outputs)
        finally:
            current_invocation.reset(token)
            if self.spec.needs_context:  # only then was it registered
                running.pop(invocation_id, None)
            if span is not None:
                span.end()

    async def _run(
        self,
        event: TriggerEvent,
        info: InvocationInfo,
        retry_count: int,
        failure: BaseException | None,
        span: InvocationSpan | None,
    ) -> dict[str, Datum]:
        """Inputs fetched, arguments decoded, the call, its outputs collected and written."""
        # Input bindings are fetched first; most functions have none and skip the await.
        fetched = await self._fetch_inputs(event) if self._inputs else {}
        kwargs = self._arguments(event, fetched)
        if self.spec.needs_context:
            running[info.invocation_id] = info  # for threads the function starts
            kwargs["context"] = self._context(event, info.invocation_id, retry_count, failure, span)
        value = await self._runner.call(self.spec.func, kwargs, self.spec.is_async)
        if self._responds:
            await http_streams.respond(value, kwargs[self._trigger_name])
            value = None
        outputs = self._collect(kwargs, value)
        if self._writers:  # e.g. not HTTP: its trigger answers with the http output
            await self._write(outputs, event)
        return outputs

    def _succeeded(
        self, event: TriggerEvent, invocation_id: str, retry_count: int, started: float
    ) -> None:
        if self._log_info:
            self._log_outcome("Succeeded", logging.INFO, invocation_id, started)
        self._record(event, invocation_id, retry_count, started, None)

    def _record(
        self,
        event: TriggerEvent,
        invocation_id: str,
        retry_count: int,
        started: float,
        exc: BaseException | None,
    ) -> None:
        """Append this invocation to the history, as its Executed line says it ended."""
        if self.history is None:
            return
        outcome, error = ("Succeeded", "") if exc is None else ("Failed", self._error_text(exc))
        self.history.append(
            Ended(
                invocation_id,
                self.spec.name,
                event.reason,
                started,
                time.perf_counter(),
                outcome,
                retry_count,
                error,
            )
        )

    def _error_text(self, exc: BaseException) -> str:
        """What the console says of a failure, without the line naming the function."""
        if isinstance(exc, asyncio.CancelledError):
            return "The invocation was cancelled."
        if isinstance(exc, InvocationTimeout):
            return f"Timeout value of {_timespan(self._runner.timeout)} exceeded."
        return _failure_message(self._qualified, exc).split("\n", 1)[1]

    async def _fetch_inputs(self, event: TriggerEvent) -> dict[str, Datum | None]:
        return {name: await binding.fetch(event) for name, binding in self._inputs.items()}

    def _arguments(
        self, event: TriggerEvent, fetched: Mapping[str, Datum | None]
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for param in self.spec.params:
            if param.is_out:
                kwargs[param.name] = Out()
                continue
            datum = event.data if param.name == self._trigger_name else fetched[param.name]
            kwargs[param.name] = converters.decode(
                param.converter, datum, event.metadata, param.pytype
            )
        return kwargs

    def _context(
        self,
        event: TriggerEvent,
        invocation_id: str,
        retry_count: int,
        failure: BaseException | None,
        span: InvocationSpan | None,
    ) -> Context:
        if span is not None:  # the invocation's own span is the function's parent
            traced = TraceContext(span.traceparent, span.tracestate, {})
        else:
            parent, state = event.metadata.get("traceparent"), event.metadata.get("tracestate")
            traced = trace_context(parent.value if parent else None, state.value if state else None)
        return Context(
            invocation_id=invocation_id,
            function_name=self.spec.name,
            function_directory=self.spec.directory,
            trace_context=traced,
            retry_context=RetryContext(
                retry_count,
                self.retry.max_retry_count if self.retry else 0,
                _rpc_exception(self._qualified, failure),
            ),
        )

    def _collect(self, kwargs: Mapping[str, Any], value: Any) -> dict[str, Datum]:
        outputs: dict[str, Datum] = {}
        for param in self._out_params:
            out_value = kwargs[param.name].get()
            if out_value is not None:
                outputs[param.name] = converters.encode(param.converter, out_value, param.pytype)
        ret = self.spec.return_binding
        if ret is not None and value is not None:
            outputs["$return"] = converters.encode(ret.type, value, self.spec.return_pytype)
        elif self._none_refused:
            raise BindingError(
                "the function returned None, but its HTTP response is its return value "
                "($return); expected a func.HttpResponse or a str"
            )
        elif ret is None and value is not None:
            raise BindingError(
                f"the function returned a {type(value).__name__} but has no return binding "
                f"($return); expected None, or declare an output binding for the value"
            )
        return outputs

    async def _write(self, outputs: Mapping[str, Datum], event: TriggerEvent) -> None:
        for name, datum in outputs.items():
            writer = self._writers.get(name)
            if writer is not None:
                # A write that has started must finish even if the caller goes away.
                await asyncio.shield(writer.write(datum, event))

    def _log(self, level: int, message: str, later: bool = False) -> None:
        """Logger.log without its walk up the stack for the caller: it is always this line."""
        if log.isEnabledFor(level):
            extra = self._extra_later if later else self._extra
            log.handle(
                log.makeRecord(
                    log.name, level, __file__, _LOG_LINE, message, (), None, "_log", extra
                )
            )

    def _log_executing(self, event: TriggerEvent, invocation_id: str) -> None:
        details = event.details
        self._log(
            logging.INFO,
            f"Executing '{self._qualified}' (Reason='{event.reason}', Id={invocation_id})",
            later=bool(details),  # written with the Trigger Details line, which follows at once
        )
        if details:
            text = ", ".join(f"{key}: {value}" for key, value in details.items())
            self._log(logging.INFO, f"Trigger Details: {text}")

    def _log_outcome(self, outcome: str, level: int, invocation_id: str, started: float) -> None:
        duration = round((time.perf_counter() - started) * 1000)
        self._log(
            level,
            f"Executed '{self._qualified}' ({outcome}, Id={invocation_id}, Duration={duration}ms)",
            later=self.executed_may_wait and outcome == "Succeeded",
        )

    def _log_failure(self, exc: BaseException, invocation_id: str, started: float) -> None:
        # The Functions host prints a timeout before the Executed line, an exception after.
        if isinstance(exc, InvocationTimeout):
            self._log(
                logging.ERROR,
                f"Timeout value of {_timespan(self._runner.timeout)} exceeded by function "
                f"'{self._qualified}' (Id: '{invocation_id}'). Initiating cancellation.",
            )
        # At Error, as the host logs a failure: "Function": "Warning" still shows it.
        self._log_outcome("Failed", logging.ERROR, invocation_id, started)
        if isinstance(exc, asyncio.CancelledError):
            self._log(logging.WARNING, f"Invocation {invocation_id} was cancelled.")
        elif not isinstance(exc, InvocationTimeout):
            self._log(logging.ERROR, _failure_message(self._qualified, exc))


# Where a host line's record says it was logged (findCaller's answer, without its stack walk).
_LOG_LINE = Invoker._log.__code__.co_firstlineno


def _failure_message(qualified: str, exc: BaseException) -> str:
    message = f"Exception while executing function: {qualified}\n"
    message += f"Exception: {type(exc).__name__}: {exc}"
    if not isinstance(exc, FunchostError):
        # funchost's own errors say everything in their message; a stack adds only noise.
        message += f"\nStack: {user_traceback(exc)}"
    return message


def _rpc_exception(qualified: str, failure: BaseException | None) -> RpcException:
    """The previous attempt's failure, as the host puts it in the retry context; empty first."""
    if failure is None:
        return _NO_FAILURE
    return RpcException(message=_failure_message(qualified, failure))


_NO_FAILURE = RpcException()  # frozen: every first attempt can share it


def _timespan(seconds: float | None) -> str:
    """hh:mm:ss, as the Functions host prints a TimeSpan."""
    total = round(seconds or 0)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def _new_id() -> str:
    """A version-4 UUID string, unique per invocation; ids need to be unique, not secret.

    The first 80 bits are random once per process, the last 48 a counter mixed with random
    bits: a third of the cost of a fresh ``random.getrandbits(128)`` formatted each time.
    """
    # An odd multiplier is a bijection modulo 2**48: distinct counts stay distinct ids, and
    # consecutive ids do not differ in their last digit only (they are read in logs).
    return f"{_ids.prefix}{(next(_ids.counter) * _SPREAD & _LOW48) ^ _ids.mask:012x}"


class _IdSource:
    """The per-process part of invocation ids; drawn again in a forked child."""

    prefix: str
    mask: int
    counter: itertools.count[int]

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        # Version 4 in bits 76-79, RFC 4122 variant (10) in bits 62-63, as uuid4() sets them.
        h = f"{random.getrandbits(128) & _V4_MASK | _V4_BITS:032x}"
        self.prefix = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-"
        self.mask = int(h[20:], 16)
        self.counter = itertools.count()


_SPREAD = 0x9E3779B97F4B  # odd: the golden-ratio constant, 48 bits
_LOW48 = (1 << 48) - 1
_V4_MASK = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_V4_BITS = (0x4 << 76) | (0x2 << 62)
_ids = _IdSource()
os.register_at_fork(after_in_child=_ids.reseed)
