"""Output bindings routed to memory: what a function wrote, kept for the test to read.

Every output writer of an app under test is wrapped once, at start; the wrapper records
instead of writing when the app records all its outputs or when the invocation asked for it
(a ContextVar, set by ``app.invoke(..., record=True)`` for that invocation only).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.functions.meta import Datum

    from funchost.bindings.base import OutputBinding, TriggerEvent

# Whether the invocation running in this context records its outputs instead of writing them.
recording: ContextVar[bool] = ContextVar("funchost_recording", default=False)


@dataclass(frozen=True)
class Written:
    """One output one invocation wrote: the function, the binding name and the encoded value."""

    function: str
    binding: str
    datum: Datum

    @property
    def value(self) -> Any:
        """The value as the binding's converter encoded it; JSON text comes back parsed."""
        return self.datum.python_value


class Recorder:
    """The outputs recorded so far, in the order they were written; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: list[Written] = []

    def add(self, written: Written) -> None:
        """Keep one output (called on the host's loop)."""
        with self._lock:
            self._written.append(written)

    @property
    def written(self) -> list[Written]:
        """Everything recorded and not taken yet."""
        with self._lock:
            return list(self._written)

    def take(self, binding: str | None = None, function: str | None = None) -> list[Any]:
        """The values recorded for this binding name (and function), which are then forgotten.

        Names compare case-insensitively, as the host compares function names.
        """
        with self._lock:
            taken = [w for w in self._written if _matches(w, binding, function)]
            self._written = [w for w in self._written if not _matches(w, binding, function)]
        return [w.value for w in taken]

    def clear(self) -> None:
        """Forget everything recorded."""
        with self._lock:
            self._written.clear()

    def router(self, function: str, always: bool) -> Callable[[str, OutputBinding], OutputBinding]:
        """What ``Invoker.route_outputs`` takes: each writer of ``function`` wrapped."""

        def route(binding: str, writer: OutputBinding) -> OutputBinding:
            return _RecordingWriter(self, function, binding, writer, always)

        return route


def _matches(written: Written, binding: str | None, function: str | None) -> bool:
    return (binding is None or written.binding.lower() == binding.lower()) and (
        function is None or written.function.lower() == function.lower()
    )


class _RecordingWriter:
    """An output writer that records while recording is on and writes for real otherwise."""

    def __init__(
        self, recorder: Recorder, function: str, binding: str, writer: OutputBinding, always: bool
    ) -> None:
        self._recorder = recorder
        self._function = function
        self._binding = binding
        self._writer = writer
        self._always = always

    async def write(self, datum: Datum, event: TriggerEvent) -> None:
        """Record the value, or hand it to the real writer."""
        if self._always or recording.get():
            self._recorder.add(Written(self._function, self._binding, datum))
            return
        await self._writer.write(datum, event)
