"""``func.Context`` for one invocation, and the ContextVar the log formatter reads."""

from __future__ import annotations

import contextvars
import random
import threading
from typing import Any, NamedTuple

import azure.functions as func


class InvocationInfo(NamedTuple):
    """Who is running right now: read by log records emitted inside an invocation.

    A NamedTuple: one is made per invocation, and a tuple is the cheapest immutable record.
    """

    invocation_id: str
    function_name: str


current_invocation: contextvars.ContextVar[InvocationInfo | None] = contextvars.ContextVar(
    "funchost_invocation", default=None
)


class TraceContext(func._abc.TraceContext):
    """W3C trace context of the invocation."""

    def __init__(self, trace_parent: str, trace_state: str = "") -> None:
        self._trace_parent = trace_parent
        self._trace_state = trace_state

    @property
    def trace_parent(self) -> str:
        """The W3C traceparent header value."""
        return self._trace_parent

    @property
    def trace_state(self) -> str:
        """The W3C tracestate header value."""
        return self._trace_state

    @property
    def attributes(self) -> dict[str, str]:
        """Extra attributes; none locally."""
        return {}


class RetryContext(func._abc.RetryContext):
    """Which attempt this is under the function's retry policy."""

    def __init__(self, retry_count: int = 0, max_retry_count: int = 0) -> None:
        self._retry_count = retry_count
        self._max_retry_count = max_retry_count

    @property
    def retry_count(self) -> int:
        """Zero on the first attempt."""
        return self._retry_count

    @property
    def max_retry_count(self) -> int:
        """The policy's maximum, zero without a policy."""
        return self._max_retry_count

    @property
    def exception(self) -> Any:  # the library types it RpcException; locally there is none
        """The previous attempt's exception is not carried locally."""
        return None


class Context(func.Context):
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
        self._thread_local_storage = threading.local()

    @property
    def invocation_id(self) -> str:
        """The invocation's id, as printed in the Executing/Executed lines."""
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:  # the library says type[local]; workers pass an instance
        """Storage local to the thread running the invocation."""
        return self._thread_local_storage

    @property
    def function_name(self) -> str:
        """The function's name."""
        return self._function_name

    @property
    def function_directory(self) -> str:
        """The app's script root."""
        return self._function_directory

    @property
    def trace_context(self) -> TraceContext:
        """W3C trace context."""
        return self._trace_context

    @property
    def retry_context(self) -> RetryContext:
        """Retry attempt information."""
        return self._retry_context


def new_trace_parent(incoming: str | None = None) -> str:
    """A traceparent for this invocation, continuing the caller's trace when it sent one.

    Trace and span ids must be unique, not secret: the process's PRNG draws them without
    the system call os.urandom costs on every HTTP invocation that takes a context. An
    all-zero id is invalid (W3C Trace Context), hence the ``or 1``.
    """
    span = f"{random.getrandbits(64) or 1:016x}"
    parts = (incoming or "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        return f"00-{parts[1]}-{span}-{parts[3]}"
    return f"00-{random.getrandbits(128) or 1:032x}-{span}-00"
