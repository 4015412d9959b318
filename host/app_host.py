"""The host's lifecycle: load configuration and app, wire functions, serve, drain, stop."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from funchost.bindings.base import BindingContext
from funchost.bindings.registry import get_provider, loaded_providers
from funchost.bindings.shared.storage import AZURITE
from funchost.errors import AppLoadError, FunctionLoadError
from funchost.host import azurite, hostjson, listeners, logs, settings, startup, telemetry, ui
from funchost.host.ci import ready
from funchost.host.control import HostControl
from funchost.host.http import cors, homepage
from funchost.host.http import limits as http_limits
from funchost.host.http.keys import load_keys, secrets_dir
from funchost.host.http.rates import data_rates
from funchost.host.http.server import HttpServer
from funchost.host.options import StartOptions
from funchost.host.supervisor.slot import HandedConnections
from funchost.host.ui import files as ui_files
from funchost.host.ui.dashboard import Dashboard
from funchost.worker.frameworks import AsgiLifespan, asgi_lifespan
from funchost.worker.indexer import FunctionSpec, index_app
from funchost.worker.loader import LoadedApp, load_app, script_file_name
from funchost.worker.loopwatch import LoopWatch, user_code
from funchost.worker.runner import Runner, thread_count
from funchost.worker.wiring import LoadedFunction, wire

log = logging.getLogger("funchost.host")


@dataclass
class LoadState:
    """What loading produced: functions to serve and every problem found, for the report."""

    functions: list[LoadedFunction] = field(default_factory=list)
    app_error: AppLoadError | None = None
    function_errors: list[FunctionLoadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)  # by AzureWebJobs.<name>.Disabled
    indexed: list[FunctionSpec] = field(default_factory=list)  # served or not (the dashboard)

    @property
    def problems(self) -> list[str]:
        """Every problem as one line of text, whole-app first."""
        lines = [str(self.app_error)] if self.app_error else []
        return lines + [str(e) for e in self.function_errors]


@dataclass(frozen=True)
class Config:
    """The configuration, read once at start-up."""

    host: hostjson.HostConfig
    local: settings.LocalSettings
    settings: Mapping[str, str]


def load_config(options: StartOptions, environ: os._Environ[str] | dict[str, str]) -> Config:
    """Read local.settings.json (its Values go into the environment first), then host.json."""
    local = settings.load_local_settings(options.script_root)
    settings.export_values(local, environ)
    host = hostjson.load_host_config(options.script_root, environ)
    merged = dict(environ)
    merged.update({f"ConnectionStrings:{k}": v for k, v in local.connection_strings.items()})
    return Config(host=host, local=local, settings=merged)


class Host:
    """One funchost instance serving one app."""

    def __init__(self, options: StartOptions, config: Config) -> None:
        self.options = options
        self.config = config
        self._pending_report: str | None = None
        self.state = LoadState()
        self.control = HostControl(self.state, lambda: self.options.base_url)
        home = homepage.handler(config.settings)
        # --no-ui: no page, no ring of recent invocations, nothing appended to one.
        self.dashboard = Dashboard(self) if options.ui else None
        self.control.dashboard = self.dashboard
        pages = ui_files.handler() if options.ui else None
        self.server = HttpServer(config.host.http.route_prefix, self.control, home, pages)
        # Outermost first: CORS also labels the 429s and 413s of the limits.
        self.server.middlewares += cors.middlewares(options)
        self.server.middlewares += http_limits.middlewares(config.host.http, config.settings)
        self.server.rates = data_rates(config.settings)
        self.runner = Runner(thread_count(config.settings), config.host.function_timeout)
        self._stopping = asyncio.Event()
        # frameworks: the loaded app, for an AsgiFunctionApp's lifespan (worker/frameworks.py)
        self.loaded_app: LoadedApp | None = None
        self.lifespan: AsgiLifespan | None = None
        self._unavailable_kinds: dict[str, str | None] = {}
        self.telemetry = telemetry.Telemetry()
        # supervisor/: a new generation's listeners wait for the old one to exit (SIGUSR1).
        self._held = options.worker is not None and options.worker.hold_triggers
        self._releasing: asyncio.Task[None] | None = None

    def load(self) -> LoadState:
        """Import, index and wire the app; whole-app and per-function errors are recorded."""
        # Before the app is imported, as the Python worker configures OpenTelemetry.
        self.telemetry = telemetry.configure(self.config.settings, self.options.script_root)
        self.state.warnings.extend(self.telemetry.warnings)
        try:
            loaded = load_app(self.options.script_root, script_file_name(dict(os.environ)))
            index = index_app(loaded.app, self.options.script_root)
        except AppLoadError as exc:
            self.state.app_error = exc
            return self.state
        self.loaded_app = loaded  # frameworks
        self.state.function_errors.extend(index.errors)
        self.state.indexed = index.functions
        for spec in self._selected(index.functions):
            if self._disabled_by_setting(spec.name):
                self.state.disabled.append(spec.name)
            else:
                self._wire(spec)
        if self.telemetry.traced:
            self._trace_invocations()
        return self.state

    def _trace_invocations(self) -> None:
        from funchost.worker.tracing import Spans  # imports opentelemetry: only when tracing

        for function in self.state.functions:
            function.invoker.spans = Spans(function.spec.name, function.spec.trigger.type)
        if self.telemetry.exporters:
            log.info(
                "Invocations are traced (OpenTelemetry: %s).", ", ".join(self.telemetry.exporters)
            )

    def _disabled_by_setting(self, name: str) -> bool:
        value = self.config.settings.get(f"AzureWebJobs.{name}.Disabled", "")
        return value.strip().lower() in ("1", "true")

    def _selected(self, specs: list[FunctionSpec]) -> list[FunctionSpec]:
        wanted = self.options.functions
        if not wanted:
            return specs
        names = {s.name for s in specs}
        for missing in sorted(set(wanted) - names):
            self.state.warnings.append(
                f"--functions: no function named '{missing}'; the app has: "
                f"{', '.join(sorted(names)) or 'none'}"
            )
        return [s for s in specs if s.name in wanted]

    def _wire(self, spec: FunctionSpec) -> None:
        try:
            loaded = wire(
                spec, self.runner, self._binding_context, self.config.host.logging.level_for
            )
            self.state.functions.append(loaded)
            self.state.warnings.extend(loaded.warnings)
            if self.dashboard is not None:
                loaded.invoker.history = self.dashboard.history
        except FunctionLoadError as exc:
            self.state.function_errors.append(exc)

    def _binding_context(self, spec: FunctionSpec) -> BindingContext:
        return BindingContext(
            function_name=spec.name,
            script_root=self.options.script_root,
            settings=self.config.settings,
            host_json=self.config.host.section,
            function_bindings=spec.bindings,
            http=self.server.routes,
            unavailable=self._unavailable,
            warn=self._warn,
        )

    def _unavailable(self, kind: str) -> str | None:
        """Why a local emulator cannot be had; probed once, when a binding first asks."""
        if kind not in self._unavailable_kinds:
            self._unavailable_kinds[kind] = self._probe(kind)
        return self._unavailable_kinds[kind]

    def _probe(self, kind: str) -> str | None:
        # --no-azurite: the user runs their own, maybe later; --strict: a missing one stops
        # the host when it would be started (cli), instead of functions being left out.
        if kind != AZURITE or not self.options.azurite or self.options.strict:
            return None
        return azurite.unavailable(self.options.script_root)

    def _warn(self, text: str) -> None:
        if text not in self.state.warnings:
            self.state.warnings.append(text)

    def local_services(self, kind: str) -> list[str]:
        """The settings of the connections that point at a local emulator of this kind."""
        found: set[str] = set()
        for function in self.state.functions:
            ctx = self._binding_context(function.spec)
            for binding in function.spec.bindings:
                services = get_provider(binding.type).local_services(binding, ctx)
                found.update(s.setting for s in services if s.kind == kind)
        return sorted(found)

    def report(self, note: str = "", *, now: bool = False) -> None:
        """Print the start-up report and a note under it, once the port is known.

        With --port 0 the port is the system's choice, known only once the socket listens,
        and the report's URLs must name it: then ``serve`` prints it (unless ``now``).
        """
        if not self.speaks:
            return
        if self.options.port == 0 and not now:
            self._pending_report = note
            return
        from funchost.host.report import render  # report imports this module

        self.options.out.write(render(self.state, self.options.base_url) + self._ui_line() + note)
        self.options.out.flush()

    def _ui_line(self) -> str:
        if self.dashboard is None:
            return ""
        return f"Dashboard: {self.options.base_url}{ui.PATH}\n"

    @property
    def speaks(self) -> bool:
        """Whether this process prints the report: one host, or the first of its workers."""
        return self.options.worker is None or self.options.worker.index == 0

    def enforce_auth(self) -> Path | None:
        """Load keys when auth is enforced; returns the secrets folder, None when off."""
        if not self.options.auth_enforced:
            return None
        self.server.keys = load_keys(
            self.options.script_root,
            self.config.settings,
            [f.spec.name for f in self.state.functions],
            self.server.routes.system_key_names(),
        )
        return secrets_dir(self.options.script_root, self.config.settings)

    async def open(self, *, triggers: bool = True) -> None:
        """Run the lifespan startup, listen, report, and start every trigger listener.

        ``triggers=False`` leaves the listeners unstarted (the pytest plugin, where a test
        runs trigger functions itself): HTTP routes and webhooks are served either way.
        """
        await self._start_lifespan()  # frameworks: before the socket listens
        try:
            worker = self.options.worker
            handed = None if worker is None else functools.partial(HandedConnections, worker)
            port = self.options.port if worker is None else worker.port
            port = await self.server.start(self.options.address, port, handed)
            # --port 0: the port the system chose is the one every URL and the report show.
            self.options = replace(self.options, port=port)
            if self._pending_report is not None:
                self.report(self._pending_report)
            if triggers:
                await listeners.start_all(self.state.functions)
        except BaseException:
            await self._stop_lifespan()  # frameworks: what started is shut down
            raise

    async def serve(self, started: float) -> None:
        """Start listening and every listener, report, then run until asked to stop."""
        await self.open(triggers=not self._held)
        # As Core Tools: function code building its own URLs reads this; a platform's wins.
        os.environ.setdefault("WEBSITE_HOSTNAME", f"localhost:{self.options.port}")
        elapsed = round((time.perf_counter() - started) * 1000)
        if self.speaks:
            self.options.out.write(
                f"Host started in {elapsed} ms, listening on {self.options.base_url}\n"
            )
            self.options.out.flush()
        self._mark_ready()
        startup.serving()  # the collector, off during the command's start-up, runs again
        # From here on, print() in user code becomes timestamped log lines.
        sys.stdout = logs.PrintCapture()
        watch = LoopWatch(user_code((f.spec.name, f.spec.func) for f in self.state.functions))
        watch.start()
        try:
            await self._stopping.wait()
            await self.shutdown()
        finally:
            watch.stop()
            if self.options.ready_file is not None:
                ready.clear_ready(self.options.ready_file)
            sys.stdout.flush()
            sys.stdout = sys.__stdout__

    def _mark_ready(self) -> None:
        """--ready-file: the socket listens, so a client connecting now is accepted."""
        if self.options.ready_file is not None:
            url = ready.connect_url(self.options.address, self.options.port)
            ready.write_ready(self.options.ready_file, url)
        if self.options.worker is not None:
            self.options.worker.notify_ready()

    def release_triggers(self) -> None:
        """SIGUSR1 from the supervisor: the previous generation exited; start the listeners."""
        if self._held:
            self._held = False
            self._releasing = asyncio.get_running_loop().create_task(self._start_triggers())

    async def _start_triggers(self) -> None:
        # As a listener failing at start stops a single host: this worker exits and its
        # supervisor starts another.
        try:
            await listeners.start_all(self.state.functions)
        except Exception:
            log.exception("Starting the trigger listeners failed; stopping this worker.")
            self.request_stop()

    # --- frameworks (worker/frameworks.py): the ASGI lifespan of an AsgiFunctionApp ---------

    async def _start_lifespan(self) -> None:
        """Run the lifespan startup; a failure is reported like an app that cannot load."""
        specs = [f.spec for f in self.state.functions]
        self.lifespan = asgi_lifespan(self.loaded_app, specs)
        if self.lifespan is None:
            return
        try:
            await self.lifespan.startup()
        except AppLoadError as exc:
            self.lifespan = None
            self._unload(exc)

    def _unload(self, error: AppLoadError) -> None:
        """Serve no function, as for an import error; --strict stops the host instead."""
        from funchost.host.report import render  # report imports this module

        self.state.app_error = error
        self.state.functions.clear()
        self.server.routes.clear()
        self.options.out.write(render(self.state, self.options.base_url))
        self.options.out.flush()
        if self.options.strict:
            raise error

    async def _stop_lifespan(self) -> None:
        if self.lifespan is not None:
            await self.lifespan.shutdown()

    def request_stop(self) -> None:
        """Called from the signal handler: only sets a flag."""
        self._stopping.set()

    async def shutdown(self) -> None:
        """Stop intake, let in-flight work finish by one deadline, then close everything."""
        log.info("Stopping host...")
        timeout = self.options.shutdown_timeout
        if self._releasing is not None:  # listeners still starting are stopped once started
            await asyncio.gather(self._releasing, return_exceptions=True)
        # One budget for all: triggers and HTTP requests drain side by side, not one by one.
        await asyncio.gather(
            listeners.stop_all(self.state.functions, listeners.deadline_after(timeout)),
            self.server.stop(timeout),
        )
        await self._stop_lifespan()  # frameworks: after the last request
        self.runner.shutdown()
        await _close_providers()  # last: listeners and invocations no longer use them
        # The last spans (the drain's) are exported before the process ends.
        await asyncio.to_thread(self.telemetry.shutdown)
        log.info("Host stopped.")


async def _close_providers() -> None:
    """Close every loaded binding type's SDK clients; one failing does not stop the rest."""
    for provider in reversed(loaded_providers()):
        try:
            await provider.aclose()
        except Exception as exc:
            log.warning("Closing the clients of '%s' failed: %s", provider.type_name, exc)
