"""The CI commands' options and what they print: ``wait-ready``, ``invoke``, ``check --json``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from funchost.host.ci import ready
from funchost.host.ci.invoke import Outcome, invoke_local, invoke_remote
from funchost.host.option_ranges import SECONDS, add_ranged
from funchost.redact import redact

if TYPE_CHECKING:
    from funchost.host.app_host import LoadState

DEFAULT_WAIT = 60.0
DEFAULT_URL = "http://127.0.0.1:7071"


def _ready_file_option(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=os.environ.get("FUNCHOST_READY_FILE") or None,
        metavar="PATH",
        help=f"{text} [env: FUNCHOST_READY_FILE]",
    )


def add_start_options(start: argparse.ArgumentParser) -> None:
    """``funchost start --ready-file``."""
    _ready_file_option(
        start,
        "once the port accepts connections, write the URL to reach the host here "
        "(atomically; removed when the host stops)",
    )


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """The ``wait-ready`` and ``invoke`` subcommands."""
    wait = sub.add_parser("wait-ready", help="wait until a started host answers (for CI)")
    _ready_file_option(wait, "the ready file `funchost start --ready-file` writes")
    _url_option(wait)
    add_ranged(
        wait,
        "--timeout",
        SECONDS,
        "FUNCHOST_WAIT_TIMEOUT",
        f"give up after this long (default: {DEFAULT_WAIT:g})",
        metavar="SECONDS",
        default=DEFAULT_WAIT,
    )
    invoke = sub.add_parser("invoke", help="run one function through the admin API")
    invoke.add_argument("name", metavar="NAME", help="the function's name")
    invoke.add_argument(
        "--data",
        default=None,
        help="the trigger's input (a queue message, an HTTP body sent with POST; "
        "without it an HTTP function gets a GET)",
    )
    _ready_file_option(invoke, "find the host's URL in this ready file")
    _url_option(invoke)
    invoke.add_argument(
        "--key",
        default=os.environ.get("FUNCTIONS_MASTER_KEY") or None,
        help="the master key, when the host checks keys [env: FUNCTIONS_MASTER_KEY]",
    )
    invoke.add_argument(
        "--local",
        action="store_true",
        help="load the app from --script-root in this process instead (non-HTTP functions); "
        "prints what each output binding got",
    )
    add_common(invoke)


def _url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("FUNCHOST_URL") or None,
        help=f"the host's URL, instead of a ready file (default: {DEFAULT_URL}) "
        "[env: FUNCHOST_URL]",
    )


def wait_ready(args: argparse.Namespace) -> str:
    """Wait for the host; its URL (raises ready.NotReady)."""
    url = args.url if args.url or args.ready_file else DEFAULT_URL
    return ready.wait_ready(args.ready_file, url, args.timeout)


def invoke(args: argparse.Namespace) -> bool:
    """Run the function, print its outcome; whether it went well."""
    if args.local:
        outcome = invoke_local(Path(args.script_root).resolve(), args.name, args.data)
    else:
        outcome = invoke_remote(_target(args), args.name, args.data, args.key)
    _print(outcome)
    return outcome.ok


def _target(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url)
    if args.ready_file is not None:
        found = ready.read_ready(args.ready_file)
        if found is None:
            raise ready.NotReady(f"no ready file at {args.ready_file}: is the host started?")
        return found
    return DEFAULT_URL


def _print(outcome: Outcome) -> None:
    if outcome.out:
        print(outcome.out)
    if outcome.note:
        print(f"funchost invoke: {outcome.note}", file=sys.stderr)


def check_document(state: LoadState) -> dict[str, Any]:
    """``funchost check --json``: the functions, their bindings and every problem."""
    functions = [
        {
            "name": f.spec.name,
            "trigger": f.spec.trigger.type,
            "scriptFile": f.spec.where,
            "bindings": [
                {"name": b.name, "type": b.type, "direction": b.direction} for b in f.spec.bindings
            ],
        }
        for f in state.functions
    ]
    return {
        "ok": not state.problems,
        "functions": functions,
        "disabled": sorted(state.disabled),
        "problems": state.problems,
        "warnings": list(state.warnings),
    }


def print_check(state: LoadState) -> None:
    """The check document on stdout, nothing else there."""
    print(redact(json.dumps(check_document(state), indent=2)))  # problems may echo a secret
