"""The start-up report: functions with their triggers or URLs, and every problem, prominently."""

from __future__ import annotations

from funchost.host.app_host import LoadState
from funchost.redact import redact

_RULE = "=" * 72


def render(state: LoadState, base_url: str) -> str:
    """The text printed before the readiness line."""
    parts = [_app_error(state)] if state.app_error else []
    parts.append(_functions(state, base_url))
    if state.function_errors:
        parts.append(_function_errors(state))
    parts.extend(disabled_by_setting(name) for name in state.disabled)
    parts.extend(f"Warning: {w}" for w in state.warnings)
    return redact("\n".join(p for p in parts if p) + "\n")  # errors may echo a setting


def disabled_by_setting(name: str) -> str:
    """Why a function is not served when an app setting turns it off (check says the same)."""
    return f"Function '{name}' is disabled (app setting AzureWebJobs.{name}.Disabled)."


def _app_error(state: LoadState) -> str:
    assert state.app_error is not None
    lines = [
        _RULE,
        "ERROR: the app could not be loaded; no functions are served until it is fixed.",
        str(state.app_error),
    ]
    if state.app_error.detail:
        lines.append(state.app_error.detail)
    lines.append(_RULE)
    return "\n".join(lines)


def _functions(state: LoadState, base_url: str) -> str:
    if not state.functions:
        return f"No functions loaded ({_no_functions_reason(state)}).\n"
    lines = ["Functions:", ""]
    for function in state.functions:
        lines.append(f"\t{function.spec.name}: {function.listener.describe(base_url).text}")
        lines.append("")
    return "\n".join(lines)


def _no_functions_reason(state: LoadState) -> str:
    if state.app_error:
        return "the app could not be loaded: see the error above"
    if state.function_errors:
        return "every function is disabled: see the errors below"
    if state.warnings:
        return "none was selected: see the warnings below"
    return "the app defines none"


def _function_errors(state: LoadState) -> str:
    lines = [f"{len(state.function_errors)} function(s) disabled (the rest are served):"]
    lines.extend(f"\t{error}" for error in state.function_errors)
    return "\n".join(lines) + "\n"
