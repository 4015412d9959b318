"""Connect an indexed function to its bindings: trigger listener, input fetchers, output writers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from funchost.bindings.base import (
    BindingContext,
    BindingSpec,
    InputBinding,
    OutputBinding,
    TriggerListener,
)
from funchost.bindings.registry import get_provider
from funchost.bindings.shared.connections import (
    ConnectionNotFound,
    SettingNotFound,
    resolve_connection,
    resolve_setting_refs,
)
from funchost.config_section import Section
from funchost.errors import ConfigError, FunchostError, FunctionLoadError
from funchost.worker.indexer import FunctionSpec, join_problems
from funchost.worker.invoker import Invoker, LevelFor
from funchost.worker.retry import RetryPolicy, host_json_policy, parse_policy
from funchost.worker.runner import Runner

ContextFactory = Callable[[FunctionSpec], BindingContext]


@dataclass
class LoadedFunction:
    """A function ready to serve: its spec, the invoker and the trigger's listener."""

    spec: FunctionSpec
    invoker: Invoker
    listener: TriggerListener
    warnings: list[str] = field(default_factory=list)


def wire(
    spec: FunctionSpec,
    runner: Runner,
    make_ctx: ContextFactory,
    level_for: LevelFor | None = None,
) -> LoadedFunction:
    """Resolve settings, check connections and create every binding of one function.

    Raises one FunctionLoadError that lists every problem found, so a user fixes them in one go.
    """
    ctx = make_ctx(spec)
    problems: list[str] = []
    spec = _resolved(spec, ctx.settings, problems)
    ctx = dataclasses.replace(ctx, function_bindings=spec.bindings)
    _check_connections(spec, ctx.settings, problems)
    warnings: list[str] = []
    retry = _retry(spec, ctx.host_json, problems, warnings)
    if problems:
        raise FunctionLoadError(spec.name, join_problems(problems), where=spec.where)
    try:
        loaded = _create(spec, runner, ctx, retry, level_for)
    except FunchostError as exc:
        raise FunctionLoadError(spec.name, _without_name(exc, spec.name), where=spec.where) from exc
    loaded.warnings.extend(warnings)
    return loaded


def _retry(
    spec: FunctionSpec, host_json: Section, problems: list[str], warnings: list[str]
) -> RetryPolicy | None:
    """The function's own policy, else host.json's, where the trigger honours retries."""
    own = spec.settings.get("retry_policy")
    if not own and "retry" not in host_json:
        return None
    if not get_provider(spec.trigger.type).honours_retry:
        if own:
            warnings.append(
                f"{spec.where}: function '{spec.name}': its retry policy is not applied: "
                f"{spec.trigger.type} triggers keep their own redelivery and poison rules "
                "(Microsoft documents retry policies for timer, Event Hubs, Cosmos DB and Kafka "
                "triggers only)"
            )
        return None
    try:
        return parse_policy(own, "@app.retry") if own else host_json_policy(host_json)
    except ConfigError as exc:
        problems.append(str(exc))
        return None


def _without_name(exc: FunchostError, function_name: str) -> str:
    """The message without its own "function 'x': " prefix, which the wrapper adds again."""
    message = str(exc)
    if isinstance(exc, FunctionLoadError):
        message = message.removeprefix(f"{exc.where}: " if exc.where else "")
    # Bindings name the function too (storage.storage_connection), for use outside wiring.
    return message.removeprefix(f"function '{function_name}': ")


def _create(
    spec: FunctionSpec,
    runner: Runner,
    ctx: BindingContext,
    retry: RetryPolicy | None,
    level_for: LevelFor | None,
) -> LoadedFunction:
    inputs: dict[str, InputBinding] = {}
    outputs: dict[str, OutputBinding | None] = {}
    for binding in spec.bindings:
        if binding.name == spec.trigger.name:
            continue
        provider = get_provider(binding.type)
        if binding.direction == "out":
            outputs[binding.name] = provider.output(binding, ctx)
        else:
            inputs[binding.name] = provider.input(binding, ctx)
    invoker = Invoker(spec, runner, inputs, outputs, retry, level_for)
    listener = get_provider(spec.trigger.type).trigger(spec.trigger, ctx, invoker)
    # Nothing such a listener does with an invocation's outcome leaves the process before the
    # loop's next turn, when a waiting Executed line has been written (host/logs.py).
    invoker.executed_may_wait = bool(getattr(listener, "acts_on_outcome_later", False))
    return LoadedFunction(spec=spec, invoker=invoker, listener=listener)


def _resolved(spec: FunctionSpec, settings: Mapping[str, str], problems: list[str]) -> FunctionSpec:
    """The spec with every %Setting% reference in binding properties replaced."""
    bindings = tuple(_resolve_binding(b, settings, problems) for b in spec.bindings)
    by_name = {b.name: b for b in bindings}
    params = tuple(dataclasses.replace(p, binding=by_name[p.name]) for p in spec.params)
    return dataclasses.replace(
        spec,
        bindings=bindings,
        params=params,
        trigger=by_name[spec.trigger.name],
        return_binding=by_name.get("$return"),
    )


def _resolve_binding(
    binding: BindingSpec, settings: Mapping[str, str], problems: list[str]
) -> BindingSpec:
    props: dict[str, Any] = {}
    for key, value in binding.properties.items():
        if isinstance(value, str) and "%" in value:
            where = f"binding '{binding.name}' property '{key}'"
            try:
                value = resolve_setting_refs(value, settings, where=where)
            except SettingNotFound as exc:
                problems.append(str(exc))
        props[key] = value
    return dataclasses.replace(binding, properties=props)


def _check_connections(
    spec: FunctionSpec, settings: Mapping[str, str], problems: list[str]
) -> None:
    for binding in spec.bindings:
        name = binding.properties.get("connection")
        if not isinstance(name, str) or not name:
            continue
        try:
            resolve_connection(name, settings)
        except ConnectionNotFound as exc:
            problems.append(
                f"binding '{binding.name}' ({binding.type}): {exc}; expected one of them "
                f"in local.settings.json Values or the environment"
            )
