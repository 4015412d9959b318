"""ASGI lifespan for ``func.AsgiFunctionApp``: started with the host, shut down once with it.

The library serves the framework app through its own ``AsgiMiddleware`` (funchost never
re-implements that), but it starts the lifespan lazily inside the first request and shuts it
down from ``AsgiFunctionApp.__del__`` with ``asyncio.run``: at interpreter exit, on a new loop
that no longer holds the lifespan task. The host drives the same ``notify_startup()`` and
``notify_shutdown()`` on its own loop instead: startup before the socket listens, shutdown
once after the server stopped. ``WsgiFunctionApp`` has no lifespan and needs nothing here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import azure.functions as func

from funchost.errors import AppLoadError
from funchost.worker.indexer import FunctionSpec
from funchost.worker.loader import LoadedApp, user_traceback

log = logging.getLogger("funchost.frameworks")

# The app's own shutdown code gets this long; the host exits after it either way.
SHUTDOWN_TIMEOUT = 10.0
_LIBRARY_LOG = "azure.functions.AsgiMiddleware"
_STARTED = frozenset({"lifespan.startup.complete", "lifespan.startup.failed"})

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def asgi_lifespan(loaded: LoadedApp | None, served: Iterable[FunctionSpec]) -> AsgiLifespan | None:
    """The lifespan to drive when the app is an AsgiFunctionApp whose ASGI function is served."""
    if loaded is None or not isinstance(loaded.app, func.AsgiFunctionApp):
        return None
    if not hasattr(getattr(loaded.app, "middleware", None), "notify_startup"):
        return None  # a library without lifespan support
    if not any(spec.http_type == "asgi" for spec in served):
        return None  # disabled or not selected: the library would never start it either
    return AsgiLifespan(loaded.app, _describe(loaded))


def _describe(loaded: LoadedApp) -> str:
    """``function_app.py: the ASGI app 'api' (FastAPI) of AsgiFunctionApp 'app'``."""
    register: Any = loaded.app
    inner = register.middleware._app
    names = {id(v): n for n, v in reversed(vars(loaded.module).items())}
    inner_name = f"'{names[id(inner)]}' " if id(inner) in names else ""
    outer = names.get(id(loaded.app), "app")
    return (
        f"{loaded.script_file.name}: the ASGI app {inner_name}({type(inner).__name__}) "
        f"of AsgiFunctionApp '{outer}'"
    )


class _Recorder:
    """Stands in for the ASGI app in the lifespan scope: keeps what it sent and raised.

    Keeping the exception (rather than letting the library's task hold it) names it in the
    error, and avoids asyncio's "Task exception was never retrieved" at exit.
    """

    def __init__(self, app: Callable[[Message, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        self.sent: list[str] = []
        self.failure = ""  # the message of lifespan.startup/shutdown.failed
        self.error: Exception | None = None

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        async def recording_send(message: Message) -> None:
            self.sent.append(str(message.get("type")))
            if str(message.get("type")).endswith(".failed"):
                self.failure = str(message.get("message") or "")
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except Exception as exc:
            self.error = exc


class AsgiLifespan:
    """Startup and shutdown of one AsgiFunctionApp's ASGI app, through the library."""

    def __init__(self, register: Any, name: str) -> None:
        self._register = register
        self._middleware = register.middleware
        self.name = name
        self._recorder: _Recorder | None = None

    async def startup(self) -> None:
        """Run the lifespan startup; AppLoadError when it fails or the app has no lifespan."""
        recorder = _Recorder(self._middleware._app)
        self._middleware._app = recorder  # only the lifespan task calls it: no request yet
        try:
            with _quiet_library():
                succeeded = await self._middleware.notify_startup()
        finally:
            self._middleware._app = recorder.app
        if not succeeded:
            raise self._startup_error(recorder)
        self._recorder = recorder
        # The library's function checks this flag before each request: it must not start again.
        self._register.startup_task_done = True
        log.debug("%s: lifespan startup complete", self.name)

    async def shutdown(self) -> None:
        """Run the lifespan shutdown once; a failure is logged, never raised."""
        recorder = self._recorder
        if recorder is None or not self._register.startup_task_done:
            return
        # Cleared first: AsgiFunctionApp.__del__ runs the shutdown again when it is True.
        self._register.startup_task_done = False
        self._recorder = None
        try:
            with _quiet_library():
                await asyncio.wait_for(self._middleware.notify_shutdown(), SHUTDOWN_TIMEOUT)
        except TimeoutError:
            log.warning(
                "%s: the lifespan shutdown did not finish within %g s; exiting without it.",
                self.name,
                SHUTDOWN_TIMEOUT,
            )
            return
        if recorder.error is not None or "lifespan.shutdown.failed" in recorder.sent:
            log.error("%s: the lifespan shutdown failed: %s", self.name, _explain(recorder))

    def _startup_error(self, recorder: _Recorder) -> AppLoadError:
        detail = user_traceback(recorder.error) if recorder.error is not None else recorder.failure
        if recorder.error is not None and not _STARTED.intersection(recorder.sent):
            return AppLoadError(
                f"{self.name} does not support the ASGI lifespan protocol (given the "
                f"'lifespan' scope, it raised {_exception(recorder.error)}); AsgiFunctionApp "
                f"starts the lifespan before serving, and on Azure every request would fail "
                f"with 'ASGI middleware startup failed.'; expected an app that handles the "
                f"'lifespan' scope, or serve it from an @app.route function with "
                f"'await func.AsgiMiddleware(asgi_app).handle_async(req, context)'",
                detail=detail,
            )
        return AppLoadError(
            f"{self.name}: the lifespan startup failed: {_explain(recorder)}; expected it to "
            f"complete, as it runs before the host serves any request",
            detail=detail,
        )


def _explain(recorder: _Recorder) -> str:
    if recorder.error is not None:
        return _exception(recorder.error)
    last_line = recorder.failure.strip().splitlines()[-1:] or ["no reason given"]
    return f"the app sent lifespan failed: {last_line[0]}"


def _exception(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _DropFailureLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(("Failed ASGI startup", "Failed ASGI shutdown"))


@contextmanager
def _quiet_library() -> Iterator[None]:
    """Drop the library's own "Failed ASGI startup ..." lines: the host reports the failure."""
    logger = logging.getLogger(_LIBRARY_LOG)
    drop = _DropFailureLines()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)
