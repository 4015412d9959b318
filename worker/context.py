"""``func.Context`` for one invocation, and the ContextVar the log formatter reads.

The classes have the attributes of the worker's own (azure_functions_worker/bindings/
context.py, tracecontext.py, retrycontext.py; the same in the 3.13 runtime), no more and no
fewer: the library's abstract classes promise a ``retry_context.exception`` the worker never
had, and code that reads it should fail here as it fails in Azure.
"""

from __future__ import annotations

import contextvars
import random
import threading
from dataclasses import dataclass, field
from typing import NamedTuple


class InvocationInfo(NamedTuple):
    """Who is running right now: read by log records emitted inside an invocation.

    A NamedTuple: one is made per invocation, and a tuple is the cheapest immutable record.
    """

    invocation_id: str
    function_name: str


current_invocation: contextvars.ContextVar[InvocationInfo | None] = contextvars.ContextVar(
    "funchost_invocation", default=None
)

# A log record attribute: the line may be written together with the next one, or at the end
# of the event loop's iteration (host/logs.py ConsoleHandler); the invoker sets it on its own
# lines when nothing visible outside the process can follow them before either.
WRITE_LATER = "funchost_write_later"

# Invocations of functions that take a context, by id: what a thread the function started
# joins when it sets context.thread_local_storage.invocation_id.
running: dict[str, InvocationInfo] = {}


class InvocationLocal(threading.local):
    """``context.thread_local_storage``: a single thread-local object all invocations share.

    As the worker's, it is shared, so what a function stores on it stays with the thread,
    and ``invocation_id`` is the invocation running on this thread. Setting it in a thread
    the function started makes that thread's log records the invocation's (the Python
    developer reference, "Logging from created threads"): here by setting, in that thread
    only, the ContextVar the log formatter reads.
    """

    @property
    def invocation_id(self) -> str | None:
        """The invocation this thread works for; AttributeError in a thread never told."""
        info = current_invocation.get()
        if info is not None:
            return info.invocation_id
        if "_invocation_id" in vars(self):  # set to an id that is not running (or None)
            value: str | None = vars(self)["_invocation_id"]
            return value
        raise AttributeError("'thread_local_storage' has no attribute 'invocation_id'")

    @invocation_id.setter
    def invocation_id(self, value: str | None) -> None:
        vars(self)["_invocation_id"] = value
        current_invocation.set(running.get(value) if isinstance(value, str) else None)


thread_local_storage = InvocationLocal()


class TraceContext:
    """W3C trace context of the invocation; the capitalised names are the worker's too."""

    def __init__(
        self, trace_parent: str | None, trace_state: str, attributes: dict[str, str]
    ) -> None:
        """A ``trace_parent`` of None starts a new trace, drawn when first read."""
        self._trace_parent = trace_parent
        self._trace_state = trace_state
        self._attributes = attributes

    @property
    def trace_parent(self) -> str:
        """The W3C traceparent of this invocation."""
        if self._trace_parent is None:
            # Drawn on first read: most functions never look (an ASGI app gets the context in
            # its scope on every request), and the draw is a good part of making a context.
            # Under a lock: threads of one invocation reading it first together see one id.
            with _DRAW_LOCK:
                if self._trace_parent is None:
                    self._trace_parent = f"00-{random.getrandbits(128) or 1:032x}-{_span_id()}-00"
        return self._trace_parent

    @property
    def trace_state(self) -> str:
        """The caller's W3C tracestate, empty without one."""
        return self._trace_state

    @property
    def attributes(self) -> dict[str, str]:
        """The host's activity tags; none locally (Azure adds them with Application Insights)."""
        return self._attributes

    @property
    def Traceparent(self) -> str:  # the worker's deprecated spelling, as the next two
        """``trace_parent``, as OpenTelemetry samples read it."""
        return self.trace_parent

    @property
    def Tracestate(self) -> str:
        """``trace_state``, as OpenTelemetry samples read it."""
        return self._trace_state

    @property
    def Attributes(self) -> dict[str, str]:
        """``attributes``, under the worker's deprecated name."""
        return self._attributes


@dataclass(frozen=True)
class RpcException:
    """Why the previous attempt failed, in the fields of the host's RpcException message.

    Empty on a first attempt, as the worker's default message. ``message`` holds funchost's
    failure text (the exception and its traceback); the host's also wraps it in .NET
    exception names, and its ``source`` and ``stack_trace`` are .NET's: empty here.
    """

    source: str = ""
    stack_trace: str = ""
    message: str = ""
    is_user_exception: bool = False
    type: str = ""


@dataclass
class RetryContext:
    """Which attempt this is under the function's retry policy (a dataclass, as the worker's)."""

    retry_count: int
    max_retry_count: int
    rpc_exception: RpcException = field(default_factory=RpcException)


class Context:
    """The ``context`` argument a function receives."""

    def __init__(
        self,
        invocation_id: str,
        function_name: str,
        function_directory: str,
        trace_context: TraceContext,
        retry_context: RetryContext,
    ) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace_context = trace_context
        self._retry_context = retry_context

    @property
    def invocation_id(self) -> str:
        """The invocation's id, as printed in the Executing/Executed lines."""
        return self._invocation_id

    @property
    def thread_local_storage(self) -> InvocationLocal:
        """Storage local to each thread, shared by all invocations (see InvocationLocal)."""
        return thread_local_storage

    @property
    def function_name(self) -> str:
        """The function's name."""
        return self._function_name

    @property
    def function_directory(self) -> str:
        """The folder of the file that defines the function."""
        return self._function_directory

    @property
    def trace_context(self) -> TraceContext:
        """W3C trace context."""
        return self._trace_context

    @property
    def retry_context(self) -> RetryContext:
        """Retry attempt information."""
        return self._retry_context


def trace_context(traceparent: str | None, tracestate: str | None) -> TraceContext:
    """The invocation's trace context, continuing the caller's trace when it sent one.

    As ASP.NET Core under the Functions host: a valid traceparent becomes the parent of a
    span of the invocation's own, and the tracestate is kept only with it.
    """
    parts = (traceparent or "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        return TraceContext(f"00-{parts[1]}-{_span_id()}-{parts[3]}", tracestate or "", {})
    return TraceContext(None, "", {})


_DRAW_LOCK = threading.Lock()


def _span_id() -> str:
    """A random span id.

    Trace and span ids must be unique, not secret: the process's PRNG draws them without
    the system call os.urandom costs on every HTTP invocation that takes a context. An
    all-zero id is invalid (W3C Trace Context), hence the ``or 1``.
    """
    return f"{random.getrandbits(64) or 1:016x}"
