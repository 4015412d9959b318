"""``funchost``: the command line. The only place that prints errors and chooses exit codes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from funchost import __version__
from funchost.bindings.shared.storage import AZURITE
from funchost.errors import AppLoadError, ConfigError, FunchostError
from funchost.host import azurite, logs
from funchost.host.app_host import Config, Host, load_config
from funchost.host.ci import commands as ci
from funchost.host.ci import ready
from funchost.host.deploy import commands as deploy
from funchost.host.option_ranges import PORT, SECONDS, add_ranged
from funchost.host.options import (
    DEFAULT_ADDRESS,
    DEFAULT_PORT,
    DEFAULT_SHUTDOWN_TIMEOUT,
    StartOptions,
)
from funchost.host.report import render
from funchost.host.signals import on_stop_signals
from funchost.host.supervisor import config as supervisor
from funchost.host.supervisor.slot import worker_slot
from funchost.redact import redact
from funchost.worker.indexer import index_app
from funchost.worker.loader import load_app, script_file_name

EXIT_OK = 0
EXIT_CRASHED = 1  # crashed while running
EXIT_USAGE = 2  # bad usage (argparse uses 2 too)
EXIT_NOT_STARTED = 3  # configuration or app could not be loaded: the host never started

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _env_flag(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in _TRUE | _FALSE:
        return raw in _TRUE
    raise ConfigError("environment", name, raw, "one of 1, true, yes, on, 0, false, no, off")


def _flag(parser: argparse.ArgumentParser, option: str, env: str, text: str) -> None:
    """An on/off option whose default comes from its environment variable."""
    parser.add_argument(
        option, action="store_true", default=_env_flag(env), help=f"{text} [env: {env}]"
    )


def _port(flag: int | None, local_http_port: int | None) -> int:
    """--port (0: a free port the system picks), else Host.LocalHttpPort, else the default."""
    if flag is None:
        return local_http_port or DEFAULT_PORT
    return flag  # range-checked as it was parsed


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--script-root",
        # AzureWebJobsScriptRoot: what the official images set (/home/site/wwwroot).
        default=os.environ.get("FUNCHOST_SCRIPT_ROOT")
        or os.environ.get("AzureWebJobsScriptRoot")  # noqa: SIM112 (the setting's own case)
        or ".",
        help="folder holding function_app.py and host.json (default: .) "
        "[env: FUNCHOST_SCRIPT_ROOT, else AzureWebJobsScriptRoot]",
    )
    parser.add_argument(
        "--functions",
        nargs="+",
        metavar="NAME",
        default=os.environ.get("FUNCHOST_FUNCTIONS", "").replace(",", " ").split(),
        help="load only these functions [env: FUNCHOST_FUNCTIONS, comma or space separated]",
    )
    _flag(
        parser,
        "--verbose",
        "FUNCHOST_VERBOSE",
        "log levels, categories, invocation ids and library logs",
    )


def _add_start_options(parser: argparse.ArgumentParser) -> None:
    add_ranged(
        parser,
        "--port",
        PORT,
        "FUNCHOST_PORT",
        f"port to listen on, 0 for any free port (default: local.settings.json "
        f"Host.LocalHttpPort, else {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--address",
        default=os.environ.get("FUNCHOST_ADDRESS", DEFAULT_ADDRESS),
        help=f"address to bind (default: {DEFAULT_ADDRESS}) [env: FUNCHOST_ADDRESS]",
    )
    parser.add_argument(
        "--cors",
        default=os.environ.get("FUNCHOST_CORS"),
        help="comma-separated allowed origins (default: local.settings.json Host.CORS) "
        "[env: FUNCHOST_CORS]",
    )
    _flag(
        parser,
        "--cors-credentials",
        "FUNCHOST_CORS_CREDENTIALS",
        "allow credentialed CORS requests",
    )
    _flag(
        parser,
        "--enable-auth",
        "FUNCHOST_ENABLE_AUTH",
        "check function keys even on loopback (always checked on other addresses)",
    )
    _flag(parser, "--json-logs", "FUNCHOST_JSON_LOGS", "one JSON object per log line")
    add_ranged(
        parser,
        "--shutdown-timeout",
        SECONDS,
        "FUNCHOST_SHUTDOWN_TIMEOUT",
        "on SIGTERM/Ctrl+C, how long requests and trigger invocations in flight may "
        f"finish before they are cancelled (default: {DEFAULT_SHUTDOWN_TIMEOUT:g})",
        metavar="SECONDS",
    )
    _flag(
        parser,
        "--no-azurite",
        "FUNCHOST_NO_AZURITE",
        "do not start Azurite when the app's storage is UseDevelopmentStorage=true and "
        "nothing listens on 127.0.0.1:10000-10002",
    )
    _flag(parser, "--no-ui", "FUNCHOST_NO_UI", "do not serve the dashboard at /admin/ui/")
    _flag(
        parser,
        "--strict",
        "FUNCHOST_STRICT",
        f"exit with code {EXIT_NOT_STARTED} when the app cannot be loaded instead of "
        "serving no functions, or when the development storage it uses cannot be had "
        "instead of serving the functions that do not need it",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every option also reads an environment variable."""
    parser = argparse.ArgumentParser(
        prog="funchost",
        description="Run an Azure Functions Python v2 app (function_app.py) locally.",
        epilog=f"exit codes: {EXIT_OK} ok, {EXIT_CRASHED} crashed while running, "
        f"{EXIT_USAGE} bad usage, {EXIT_NOT_STARTED} configuration or app could not be loaded",
    )
    parser.add_argument("--version", action="version", version=f"funchost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="serve the app, like `func start`")
    _add_common(start)
    _add_start_options(start)
    ci.add_start_options(start)
    reload = os.environ.get("FUNCHOST_RELOAD", "").strip()
    supervisor.add_start_options(
        start,
        reload=_env_flag("FUNCHOST_RELOAD") if reload else None,  # None: a terminal's choice
    )
    check = sub.add_parser("check", help="index and validate the app without serving (for CI)")
    _add_common(check)
    check.add_argument(
        "--json", action="store_true", help="print one JSON document (logs go to stderr)"
    )
    ci.add_commands(sub, _add_common)
    deploy.add_commands(sub, _add_common)
    return parser


def process_started() -> float:
    """When this process was spawned, on the perf_counter clock (imports included)."""
    now = time.perf_counter()
    try:
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return now  # not Linux: count from here
    age = uptime - int(stat[19]) / os.sysconf("SC_CLK_TCK")
    return now - max(0.0, age)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``funchost`` command."""
    started = process_started()
    try:
        args = build_parser().parse_args(argv)
    except ConfigError as exc:
        print(f"funchost: {redact(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "wait-ready":
            print(ci.wait_ready(args), flush=True)
            return EXIT_OK
        if args.command == "invoke":
            return EXIT_OK if ci.invoke(args) else EXIT_CRASHED
        if args.command == "deploy":
            return _deploy(args)
        return _start(args, started, sys.argv[1:] if argv is None else list(argv))
    except FunchostError as exc:
        print(f"funchost: {redact(str(exc))}", file=sys.stderr)
        return EXIT_NOT_STARTED


def _options(args: argparse.Namespace, config: Config | None = None) -> StartOptions:
    root = Path(args.script_root).resolve()
    worker = worker_slot(os.environ)  # under a supervisor, which writes the ready file
    # azurite=False: `check` judges the app, not whether this machine has the emulators.
    options = StartOptions(
        script_root=root, functions=tuple(args.functions), verbose=args.verbose, azurite=False
    )
    if config is None:
        return options
    cors = tuple(o.strip() for o in args.cors.split(",") if o.strip()) if args.cors else None
    return dataclasses.replace(
        options,
        port=_port(args.port, config.local.local_http_port),
        address=args.address,
        cors=config.local.cors if cors is None else cors,
        cors_credentials=args.cors_credentials or config.local.cors_credentials,
        json_logs=args.json_logs,
        ready_file=None if args.ready_file is None or worker else Path(args.ready_file).resolve(),
        # The report and "Host started" lines become JSON too: every stdout line parses.
        out=cast(TextIO, logs.JsonLines(sys.stdout)) if args.json_logs else sys.stdout,
        strict=args.strict,
        enable_auth=args.enable_auth,
        azurite=not args.no_azurite,
        ui=not args.no_ui,
        worker=worker,
        shutdown_timeout=(
            DEFAULT_SHUTDOWN_TIMEOUT if args.shutdown_timeout is None else args.shutdown_timeout
        ),
    )


def _configure_logging(config: Config, options: StartOptions, stream: TextIO | None = None) -> None:
    levels = config.host.logging
    logs.configure(
        levels.level_for,
        levels.lowest,
        verbose=options.verbose,
        json_logs=options.json_logs,
        stream=stream,
    )


def _load_quietly(args: argparse.Namespace, quiet: bool) -> Host:
    """Load the app as ``check`` does; ``quiet``: logs and the app's prints go to stderr."""
    options = _options(args)
    config = _python_app(load_config(options, os.environ))
    _configure_logging(config, options, sys.stderr if quiet else None)
    host = Host(options, config)
    with contextlib.redirect_stdout(sys.stderr if quiet else sys.stdout):
        host.load()
    return host


def _deploy(args: argparse.Namespace) -> int:
    options = _options(args)
    config = _python_app(load_config(options, os.environ))
    _configure_logging(config, options, sys.stderr)
    root = options.script_root
    # Indexed, not wired: wiring puts the values of %Setting% expressions in, and the
    # Deployment needs those settings' names (it takes them from the Secret too).
    with contextlib.redirect_stdout(sys.stderr):
        loaded = load_app(root, script_file_name(dict(os.environ)))
        index = index_app(loaded.app, root)
    if index.errors:
        for problem in index.errors:
            print(f"funchost deploy: {redact(str(problem))}", file=sys.stderr)
        print("funchost deploy: fix these first (funchost check lists them).", file=sys.stderr)
        return EXIT_NOT_STARTED
    deploy.emit(args, root, deploy.render(args, root, index.functions, config.settings))
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    # --json: stdout holds the document alone (logs, the app's prints to stderr).
    state = _load_quietly(args, quiet=args.json).state
    options = _options(args)
    problems = state.problems
    if args.json:
        ci.print_check(state)
        return EXIT_NOT_STARTED if problems else EXIT_OK
    print(render(state, options.base_url), end="")
    if problems:
        print(f"funchost check: {len(problems)} problem(s) found.", file=sys.stderr)
        return EXIT_NOT_STARTED
    print(f"funchost check: OK, {len(state.functions)} function(s).")
    return EXIT_OK


def configured(args: argparse.Namespace) -> tuple[StartOptions, Config]:
    """The options and configuration of ``funchost start`` from its parsed arguments.

    Flags, then environment, then local.settings.json (whose Values go into os.environ) and
    host.json; the pytest plugin starts its in-process host from the same.
    """
    config = _python_app(load_config(_options(args), os.environ))
    return _options(args, config), config


def _python_app(config: Config) -> Config:
    """FUNCTIONS_WORKER_RUNTIME, when set, must say python, as the Functions host requires."""
    runtime = config.settings.get("FUNCTIONS_WORKER_RUNTIME", "").strip()
    if runtime and runtime.lower() != "python":
        raise ConfigError(
            "app setting",
            "FUNCTIONS_WORKER_RUNTIME",
            runtime,
            "python (funchost runs Python apps only), or no value",
        )
    return config


def _start(args: argparse.Namespace, started: float, argv: list[str]) -> int:
    environ = dict(os.environ)  # before local.settings.json's Values go in: for workers
    options, config = configured(args)
    if options.ready_file is not None:
        ready.clear_ready(options.ready_file)  # a previous run's must not say ready
    _configure_logging(config, options)
    plan = supervisor.plan(args.workers, args.reload, config.settings)
    if plan.supervised and options.worker is None:
        return _supervise(options, config, plan, (argv, environ))
    host = Host(options, config)
    state = host.load()
    secrets = host.enforce_auth()
    note = (
        ""
        if secrets is None
        else f"Auth is enforced: function keys are checked (keys in {secrets}).\n"
    )
    rejected = options.worker is not None and options.worker.reject_broken
    if state.app_error is not None and (options.strict or rejected):
        host.report(note, now=True)
        return EXIT_NOT_STARTED
    host.report(note)
    emulator = _start_azurite(host, options)
    try:
        _run(_serve(host, started))
        _exit_past_stuck_threads(host, EXIT_OK)
    except AppLoadError:
        return EXIT_NOT_STARTED  # --strict and the app failed at start-up: already reported
    except OSError as exc:
        print(supervisor.cannot_listen(options, exc), file=sys.stderr)
        return EXIT_NOT_STARTED
    except Exception:
        logging.getLogger("funchost.host").exception("The host crashed.")
        return EXIT_CRASHED
    finally:
        if emulator is not None:
            emulator.stop()  # after the host: its listeners released their leases
    return EXIT_OK


def _supervise(
    options: StartOptions,
    config: Config,
    plan: supervisor.Plan,
    command: tuple[list[str], dict[str, str]],
) -> int:
    """Serve from worker processes (host/supervisor/); Azurite is started here, once."""
    emulator = None
    if options.azurite and not azurite.ports_in_use():
        host = Host(options, config)  # loaded only to learn which emulators its functions use
        host.load()
        emulator = _start_azurite(host, options)
    from funchost.host.supervisor import multiprocess, start  # only when it runs

    try:
        start.serve(options, plan, *command)
    except multiprocess.NeverStarted:
        return EXIT_NOT_STARTED  # the workers (or the bind) said why
    finally:
        if emulator is not None:
            emulator.stop()  # after the workers: their listeners released their leases
    return EXIT_OK


def _start_azurite(host: Host, options: StartOptions) -> azurite.RunningAzurite | None:
    """Azurite for the development storage, when nothing listens on its ports.

    Never in a supervisor's worker: the supervisor starts it once, not once per reload.
    """
    if not options.azurite or options.worker is not None:
        return None
    settings = host.local_services(AZURITE)
    emulator = azurite.autostart(options.script_root, settings)
    if emulator is not None:
        options.out.write(emulator.describe(settings) + "\n")
        options.out.flush()
    return emulator


def _exit_past_stuck_threads(host: Host, code: int) -> None:
    """Exit now if sync functions overran functionTimeout.

    Their threads are daemons, so nothing joins them, but user code still running while the
    interpreter finalizes can block on a lock or write to a closed stream; _exit skips that.
    """
    stuck = host.runner.busy_threads
    if not stuck:
        return
    logging.getLogger("funchost.host").warning(
        "%d sync function thread(s) still running past functionTimeout; exiting without "
        "waiting for them.",
        stuck,
    )
    azurite.stop_started()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def _serve(host: Host, started: float) -> None:
    def force() -> None:
        azurite.stop_started(kill=True)
        os._exit(EXIT_CRASHED)

    on_stop_signals(host.request_stop, force)
    if host.options.worker is not None:  # its supervisor says when the triggers may start
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, host.release_triggers)
    await host.serve(started)


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return
    uvloop.run(coro)
