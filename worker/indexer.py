"""Index a loaded app with ``app.get_functions()`` and validate each function as the worker does.

A problem with one function disables only that function: it is returned in ``errors`` and
the rest are served.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions import FunctionRegister
from azure.functions.decorators.function_app import Function

from funchost.bindings.base import BindingSpec
from funchost.errors import AppLoadError, FunctionLoadError
from funchost.worker import converters


@dataclass(frozen=True)
class ParamSpec:
    """One Python parameter bound to a function.json binding."""

    name: str
    binding: BindingSpec
    pytype: Any  # the annotation, generic aliases included (the converters check them)
    is_out: bool


@dataclass(frozen=True)
class FunctionSpec:
    """Everything the worker needs to invoke one indexed function."""

    name: str
    func: Callable[..., Any]
    is_async: bool
    where: str
    directory: str
    trigger: BindingSpec
    bindings: tuple[BindingSpec, ...]
    params: tuple[ParamSpec, ...]
    return_binding: BindingSpec | None
    return_pytype: Any
    needs_context: bool
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    http_type: str = "function"


@dataclass
class Index:
    """The result of indexing: what can be served and what cannot, with reasons."""

    functions: list[FunctionSpec] = field(default_factory=list)
    errors: list[FunctionLoadError] = field(default_factory=list)


def index_app(app: FunctionRegister, script_root: Path) -> Index:
    """Index every function of the app; per-function problems land in ``Index.errors``."""
    index = Index()
    for function in _get_functions(app, script_root):
        try:
            index.functions.append(build_spec(function, script_root))
        except FunctionLoadError as exc:
            index.errors.append(exc)
    return index


def _get_functions(app: FunctionRegister, script_root: Path) -> list[Function]:
    # get_functions() warns on the root logger about auth levels of non-HTTP apps;
    # that is noise for a local host, so logging is paused around the call.
    logging.disable(logging.WARNING)
    try:
        return list(app.get_functions())
    except ValueError as exc:
        raise AppLoadError(_duplicate_message(app, script_root, exc)) from exc
    finally:
        logging.disable(logging.NOTSET)


def _duplicate_message(app: FunctionRegister, script_root: Path, exc: ValueError) -> str:
    """Name the places that declare the same function name (the library names none)."""
    by_name: dict[str, list[str]] = {}
    for builder in getattr(app, "_function_builders", []):
        function = getattr(builder, "_function", None)
        if isinstance(function, Function):
            where = _where(function.get_user_function(), script_root)
            by_name.setdefault(str(function.get_function_name()), []).append(where)
    dups = {n: w for n, w in by_name.items() if len(w) > 1}
    if not dups:
        return f"indexing the app failed: {exc}"
    return "; ".join(
        f"duplicate function name '{n}' declared at {' and '.join(w)}; expected unique "
        f"names (rename the function or use @app.function_name)"
        for n, w in dups.items()
    )


def build_spec(function: Function, script_root: Path) -> FunctionSpec:
    """Validate one function's bindings against its signature and build its spec."""
    name = str(function.get_function_name())
    user_func = function.get_user_function()
    where = _where(user_func, script_root)
    bindings = tuple(_binding_specs(function))
    trigger = _trigger(name, where, bindings)
    annotations = _annotations(user_func)
    params, needs_context = _bind_params(name, where, user_func, bindings, annotations)
    return_binding = next((b for b in bindings if b.name == "$return"), None)
    return FunctionSpec(
        name=name,
        func=user_func,
        is_async=inspect.iscoroutinefunction(user_func),
        where=where,
        directory=str(script_root),
        trigger=trigger,
        bindings=bindings,
        params=params,
        return_binding=return_binding,
        return_pytype=_return_type(name, where, return_binding, annotations),
        needs_context=needs_context,
        settings=_settings(function),
        http_type=str(getattr(function, "http_type", "function")),
    )


def _where(user_func: Callable[..., Any], script_root: Path) -> str:
    code = getattr(user_func, "__code__", None)
    if code is None:
        return "<unknown>"
    path = Path(code.co_filename)
    with contextlib.suppress(ValueError):  # outside the script root: keep it absolute
        path = path.resolve().relative_to(script_root.resolve())
    return f"{path}:{code.co_firstlineno}"


def _binding_specs(function: Function) -> list[BindingSpec]:
    raw = json.loads(function.get_function_json())
    return [BindingSpec.from_json(b) for b in raw.get("bindings", [])]


def _trigger(name: str, where: str, bindings: tuple[BindingSpec, ...]) -> BindingSpec:
    triggers = [b for b in bindings if b.is_trigger]
    if len(triggers) != 1:
        found = ", ".join(b.type for b in triggers) or "none"
        raise FunctionLoadError(
            name, f"expected exactly one trigger binding, found {found}", where=where
        )
    return triggers[0]


def _annotations(user_func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(user_func)
    except Exception:
        # Unresolvable string annotations: fall back to what is written, like the worker.
        return dict(getattr(user_func, "__annotations__", {}))


def _settings(function: Function) -> dict[str, Mapping[str, Any]]:
    retry = function.get_settings_dict("retry_policy")
    return {"retry_policy": retry} if retry else {}


def _bind_params(
    name: str,
    where: str,
    user_func: Callable[..., Any],
    bindings: tuple[BindingSpec, ...],
    annotations: Mapping[str, Any],
) -> tuple[tuple[ParamSpec, ...], bool]:
    params = dict(inspect.signature(user_func).parameters)
    bound = {b.name: b for b in bindings if b.name != "$return"}
    needs_context = "context" in params and "context" not in bound
    if needs_context:
        params.pop("context")
        _check_context_annotation(name, where, annotations.get("context"))
    _check_names_match(name, where, set(params), set(bound))
    specs = [_param_spec(name, where, p, bound[p], annotations.get(p)) for p in params]
    return tuple(specs), needs_context


def _check_context_annotation(name: str, where: str, annotation: Any) -> None:
    # The worker accepts any class named Context (the ASGI/WSGI helpers bring their own).
    if annotation is None or getattr(annotation, "__name__", None) == "Context":
        return
    raise FunctionLoadError(
        name,
        f"the 'context' parameter is expected to be of type azure.functions.Context, "
        f"got {annotation!r}",
        where=where,
    )


def _check_names_match(name: str, where: str, params: set[str], bound: set[str]) -> None:
    unbound = sorted(params - bound)
    if unbound:
        raise FunctionLoadError(
            name,
            f"parameter(s) {', '.join(unbound)} have no binding; expected a decorator "
            f"with arg_name={unbound[0]!r} (or remove the parameter)",
            where=where,
        )
    missing = sorted(bound - params)
    if missing:
        raise FunctionLoadError(
            name,
            f"binding(s) {', '.join(missing)} have no parameter; expected a parameter "
            f"named {missing[0]!r} in the function's signature",
            where=where,
        )


def _param_spec(
    name: str, where: str, param: str, binding: BindingSpec, annotation: Any
) -> ParamSpec:
    is_out = _is_out(annotation)
    binding_out = binding.direction == "out"
    if is_out and not binding_out:
        raise FunctionLoadError(
            name,
            f"parameter '{param}' is annotated func.Out but its '{binding.type}' binding "
            f"is an input; expected a plain annotation",
            where=where,
        )
    if binding_out and annotation is not None and not is_out:
        raise FunctionLoadError(
            name,
            f"parameter '{param}' is bound to the '{binding.type}' output binding; "
            f"expected it to be annotated func.Out[...]",
            where=where,
        )
    pytype = _out_arg(annotation) if is_out else annotation
    _check_type(name, where, param, binding, pytype, binding_out)
    return ParamSpec(name=param, binding=binding, pytype=pytype, is_out=is_out)


def _check_type(
    name: str, where: str, param: str, binding: BindingSpec, pytype: Any, out: bool
) -> None:
    if pytype is None or pytype is inspect.Parameter.empty:
        return
    if not converters.accepts(binding.type, pytype, out=out):
        raise FunctionLoadError(
            name,
            f"parameter '{param}' is annotated {_type_name(pytype)}, which the "
            f"'{binding.type}' binding cannot {'accept' if out else 'provide'}",
            where=where,
        )


def _return_type(
    name: str, where: str, binding: BindingSpec | None, annotations: Mapping[str, Any]
) -> Any:
    annotation = annotations.get("return")
    if binding is None or annotation is None or annotation is type(None):
        return None
    if _is_out(annotation):
        raise FunctionLoadError(
            name,
            "the return annotation must not be func.Out; expected the value's type",
            where=where,
        )
    _check_type(name, where, "$return", binding, annotation, True)
    return annotation


def _is_out(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, func.Out)


def _out_arg(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return args[0] if args else None


def _type_name(pytype: Any) -> str:
    return str(getattr(pytype, "__name__", pytype))
