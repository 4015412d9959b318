"""The apps of one test session: started on first use, one per set of options, stopped at the end.

Start-up is ``funchost start``'s: its parser (so its ``FUNCHOST_*`` variables count), then
local.settings.json and host.json, the real ``Host`` loading and wiring the app, and
``Host.open`` serving it on a free loopback port. What differs, on purpose:

- trigger listeners are not started unless ``triggers=True``: a test runs trigger functions
  with ``app.invoke``, so their services need not be reachable (and no timer fires by itself);
- Azurite is not started for ``UseDevelopmentStorage=true`` (the ``azurite`` fixture gives
  one on free ports);
- logging is left to pytest (caplog sees the host's and the functions' lines), and print()
  stays the test's;
- a problem loading the app or any function fails the test instead of being reported.

Several apps in one session share one process, as they never do under `funchost start`:
os.environ holds the settings of the last one started (the host's bindings read their own
copy), and each app's folder stays on sys.path, so their own modules need distinct names.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from funchost.errors import FunchostError
from funchost.host.app_host import Host
from funchost.host.cli import build_parser, configured
from funchost.host.report import render
from funchost.host.testing.app import FunchostApp
from funchost.host.testing.loop import LoopThread
from funchost.host.testing.recorder import Recorder

START_TIMEOUT = 60.0  # lifespan start-up and binding the port; bounded, not expected


class AppNotStarted(FunchostError):
    """The app under test could not be loaded or served; the message has the report."""


@dataclass(frozen=True)
class AppOptions:
    """What tells two apps of a session apart."""

    path: Path
    settings: tuple[tuple[str, str], ...] = ()
    record_outputs: bool = False
    triggers: bool = False
    args: tuple[str, ...] = ()


class AppSession:
    """Starts apps on one event loop thread and stops them all at the end of the session."""

    def __init__(self) -> None:
        self._loop: LoopThread | None = None
        self._apps: dict[AppOptions, FunchostApp] = {}
        self._environ = _Environ()

    def app(
        self,
        path: str | os.PathLike[str] = ".",
        *,
        settings: Mapping[str, str] | None = None,
        record_outputs: bool = False,
        triggers: bool = False,
        args: Sequence[str] = (),
    ) -> FunchostApp:
        """The app in ``path`` (relative to the current folder), started on first use.

        ``settings`` go into the environment, where they win over local.settings.json;
        ``record_outputs`` records every output binding's value instead of writing it;
        ``triggers`` starts the trigger listeners; ``args`` are more `funchost start` options.
        """
        options = AppOptions(
            Path(path).resolve(),
            tuple(sorted((settings or {}).items())),
            record_outputs,
            triggers,
            tuple(args),
        )
        found = self._apps.get(options)
        if found is None:
            found = self._apps[options] = self._start(options)
        return found

    def close(self) -> None:
        """Stop every app (the last started first), the loop, and undo the environment."""
        apps, self._apps = list(self._apps.values()), {}
        try:
            for app in reversed(apps):
                app.stop()
        finally:
            if self._loop is not None:
                self._loop.close()
                self._loop = None
            self._environ.restore()

    def _start(self, options: AppOptions) -> FunchostApp:
        # The previous app's settings leave the environment: the environment wins over
        # local.settings.json, so they would stand in for this app's own values.
        self._environ.restore()
        self._environ.set(options.settings)
        before = set(os.environ)
        try:
            host = _loaded_host(options)  # local.settings.json's Values go into os.environ
        finally:
            self._environ.added(set(os.environ) - before)
        if self._loop is None:
            self._loop = LoopThread()
        return _served(host, options, self._loop)


def _loaded_host(options: AppOptions) -> Host:
    """Configured as `funchost start` is, with the app imported, indexed and wired."""
    argv = ["start", "--script-root", str(options.path), "--port", "0"]
    argv += ["--address", "127.0.0.1", "--no-azurite", *options.args]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # argparse has printed why
        raise AppNotStarted(
            f"funchost_app(args={list(options.args)!r}): expected options of "
            "`funchost start` (funchost start --help lists them)"
        ) from None
    start_options, config = configured(args)
    host = Host(replace(start_options, out=io.StringIO()), config)
    state = host.load()
    if state.problems:
        host.runner.shutdown()
        raise AppNotStarted(_failure(options.path, render(state, host.options.base_url)))
    return host


def _served(host: Host, options: AppOptions, loop: LoopThread) -> FunchostApp:
    """Outputs routed through a recorder, keys loaded when enforced, then listening."""
    recorder = Recorder()
    for function in host.state.functions:
        function.invoker.route_outputs(recorder.router(function.spec.name, options.record_outputs))
    secrets = host.enforce_auth()
    host.report("" if secrets is None else f"Function keys are checked (keys in {secrets}).\n")
    try:
        loop.run(host.open(triggers=options.triggers), START_TIMEOUT, "starting the app")
    except BaseException:
        loop.run(host.shutdown(), START_TIMEOUT, "stopping the app that failed to start")
        raise
    report = _report_text(host)
    app = FunchostApp(host, loop, recorder, report)
    if host.state.app_error is not None:  # the ASGI lifespan start-up failed
        app.stop()
        raise AppNotStarted(_failure(options.path, report))
    return app


def _report_text(host: Host) -> str:
    out = host.options.out
    return out.getvalue() if isinstance(out, io.StringIO) else ""


def _failure(path: Path, report: str) -> str:
    return f"funchost_app: the app in {path} did not load cleanly; its start-up report:\n{report}"


class _Environ:
    """What the apps' settings changed in os.environ, to put back as it was."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, values: Iterable[tuple[str, str]]) -> None:
        for name, value in values:
            self._saved.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def added(self, names: Iterable[str]) -> None:
        for name in names:
            self._saved.setdefault(name, None)

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()
