"""Index a loaded app with ``app.get_functions()`` and validate each function as the worker does.

A problem with one function disables only that function: it is returned in ``errors`` and
the rest are served.
"""

from __future__ import annotations

import contextlib
import dataclasses
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

from funchost.bindings import registry
from funchost.bindings.base import BindingSpec
from funchost.bindings.http.stream import STREAM_PROPERTY, STREAM_REQUEST
from funchost.errors import AppLoadError, FunctionLoadError
from funchost.worker import converters, direct, http_streams

# The annotation to suggest when one is wrong, per (binding type, is output); others get a
# generic phrase. The library's converters decide what is accepted; this only words it.
_EXPECTED_TYPES: Mapping[tuple[str, bool], str] = {
    ("httptrigger", False): "func.HttpRequest",
    ("http", True): "func.HttpResponse or str",
}


@dataclass(frozen=True)
class ParamSpec:
    """One Python parameter bound to a function.json binding."""

    name: str
    binding: BindingSpec
    pytype: Any  # the annotation, generic aliases included (the converters check them)
    is_out: bool
    converter: str  # the binding type, or converters.GENERIC for str/bytes (the data as sent)


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
            index.functions.append(direct.served_directly(build_spec(function, script_root), app))
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
        f"{w[-1]}: function name '{n}' is used {len(w)} times, at {_and(w)}; expected "
        f"each name once (change one @app.function_name(...) or rename one Python function)"
        for n, w in dups.items()
    )


def join_problems(problems: list[str]) -> str:
    """One line for all of a function's problems, numbered when there are several."""
    if len(problems) == 1:
        return problems[0]
    numbered = "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
    return f"{len(problems)} problems: {numbered}"


def _and(items: list[str]) -> str:
    return f"{', '.join(items[:-1])} and {items[-1]}"


def build_spec(function: Function, script_root: Path) -> FunctionSpec:
    """Validate one function's bindings against its signature and build its spec.

    Every problem found is listed in one FunctionLoadError, so a user fixes them in one go.
    """
    name = str(function.get_function_name())
    user_func = function.get_user_function()
    where = _where(user_func, script_root)
    annotations = _annotations(user_func)
    bindings = _mark_streams(
        _mark_deferred(tuple(_binding_specs(function)), annotations), annotations
    )
    problems: list[str] = []
    trigger = _trigger(bindings, problems)
    _check_binding_types(bindings, problems)
    params, needs_context = _bind_params(user_func, bindings, annotations, problems)
    return_binding = next((b for b in bindings if b.name == "$return"), None)
    streamed = trigger is not None and bool(trigger.properties.get(STREAM_PROPERTY))
    return_pytype = _return_type(return_binding, annotations, problems, streamed)
    if problems or trigger is None:
        raise FunctionLoadError(name, join_problems(problems), where=where)
    return FunctionSpec(
        name=name,
        func=user_func,
        is_async=inspect.iscoroutinefunction(user_func),
        where=where,
        directory=_directory(user_func, script_root),
        trigger=trigger,
        bindings=bindings,
        params=params,
        return_binding=return_binding,
        return_pytype=return_pytype,
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


def _directory(user_func: Callable[..., Any], script_root: Path) -> str:
    """``context.function_directory``: the folder of the file defining the function.

    As the worker (functions.py, add_indexed_function): a blueprint's functions get its folder.
    """
    try:
        return str(Path(inspect.getfile(user_func)).parent)
    except TypeError:  # not defined in a file (a callable object): the app's folder
        return str(script_root)


def _binding_specs(function: Function) -> list[BindingSpec]:
    raw = json.loads(function.get_function_json())
    return [BindingSpec.from_json(b) for b in raw.get("bindings", [])]


def _mark_deferred(
    bindings: tuple[BindingSpec, ...], annotations: Mapping[str, Any]
) -> tuple[BindingSpec, ...]:
    """SupportsDeferredBinding on inputs typed with an extension's SDK type, as the worker
    marks them in the raw bindings it sends the host (which then sends model binding data)."""
    marked = []
    for binding in bindings:
        if binding.direction != "out" and converters.is_deferred(
            binding.type, annotations.get(binding.name)
        ):
            nested = dict(binding.properties.get("properties") or {})
            nested["SupportsDeferredBinding"] = True
            binding = dataclasses.replace(
                binding, properties={**binding.properties, "properties": nested}
            )
        marked.append(binding)
    return tuple(marked)


def _mark_streams(
    bindings: tuple[BindingSpec, ...], annotations: Mapping[str, Any]
) -> tuple[BindingSpec, ...]:
    """An HTTP trigger whose parameter is the HTTP streams extension's Request is streamed."""
    return tuple(
        direct.mark_streamed(b, STREAM_REQUEST)
        if b.type.lower() == "httptrigger"
        and http_streams.is_stream_request(annotations.get(b.name))
        else b
        for b in bindings
    )


def _trigger(bindings: tuple[BindingSpec, ...], problems: list[str]) -> BindingSpec | None:
    triggers = [b for b in bindings if b.is_trigger]
    if len(triggers) == 1:
        return triggers[0]
    found = ", ".join(f"'{b.name}' ({b.type})" for b in triggers) or "none"
    problems.append(f"expected exactly one trigger binding, found {found}")
    return None


def _check_binding_types(bindings: tuple[BindingSpec, ...], problems: list[str]) -> None:
    for binding in bindings:
        reason = registry.unsupported_reason(binding.type)
        if reason is not None:
            problems.append(f"binding '{binding.name}': {reason}")


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
    user_func: Callable[..., Any],
    bindings: tuple[BindingSpec, ...],
    annotations: Mapping[str, Any],
    problems: list[str],
) -> tuple[tuple[ParamSpec, ...], bool]:
    params = dict(inspect.signature(user_func).parameters)
    bound = {b.name: b for b in bindings if b.name != "$return"}
    needs_context = "context" in params and "context" not in bound
    if needs_context:
        params.pop("context")
        _check_context_annotation(annotations.get("context"), problems)
    _check_names_match(list(params), bound, problems)
    specs = [_param_spec(p, bound[p], annotations.get(p), problems) for p in params if p in bound]
    return tuple(specs), needs_context


def _check_context_annotation(annotation: Any, problems: list[str]) -> None:
    # The worker accepts any class named Context (the ASGI/WSGI helpers bring their own).
    if annotation is None or getattr(annotation, "__name__", None) == "Context":
        return
    problems.append(
        f"parameter 'context' is annotated {_type_name(annotation)}; expected func.Context"
    )


def _check_names_match(
    params: list[str], bound: Mapping[str, BindingSpec], problems: list[str]
) -> None:
    found_bindings = ", ".join(bound) or "none"
    for param in params:
        if param not in bound:
            problems.append(
                f"parameter '{param}' has no binding; expected a binding decorator with "
                f"arg_name='{param}' (found bindings: {found_bindings}), or remove the parameter"
            )
    found_params = ", ".join(params) or "none"
    for binding in bound.values():
        if binding.name not in params:
            problems.append(
                f"binding '{binding.name}' ({binding.type}, {binding.direction}) has no "
                f"parameter; expected a parameter named '{binding.name}' "
                f"(found parameters: {found_params})"
            )


def _param_spec(
    param: str, binding: BindingSpec, annotation: Any, problems: list[str]
) -> ParamSpec:
    is_out = _is_out(annotation)
    binding_out = binding.direction == "out"
    pytype = _out_arg(annotation) if is_out else annotation
    converter = converters.converter_for(binding.type, pytype)
    label = f"binding '{binding.name}' ({binding.type})"
    if is_out and not binding_out:
        problems.append(
            f"parameter '{param}' is annotated {_type_name(annotation)}, but {label} is an "
            f"input; expected a plain annotation{_such_as(binding, out=False)}, without func.Out"
        )
    elif binding_out and annotation is not None and not is_out:
        problems.append(
            f"parameter '{param}' is annotated {_type_name(annotation)}, but {label} is an "
            f"output; expected func.Out[{_type_name(annotation)}]"
        )
    else:
        _check_type(param, binding, converter, pytype, binding_out, problems)
    return ParamSpec(param, binding, pytype, is_out, converter)


def _check_type(
    param: str, binding: BindingSpec, converter: str, pytype: Any, out: bool, problems: list[str]
) -> None:
    if pytype is None or pytype is inspect.Parameter.empty:
        return
    if not converters.accepts(converter, pytype, out=out):
        what = "the return annotation" if param == "$return" else f"parameter '{param}'"
        expected = _EXPECTED_TYPES.get((binding.type.lower(), out))
        expected = expected or f"a type the '{binding.type}' binding can {_verb(out)}"
        problems.append(
            f"{what} is annotated {_type_name(pytype)}; expected {expected} for "
            f"binding '{binding.name}' ({binding.type})"
        )


def _such_as(binding: BindingSpec, *, out: bool) -> str:
    expected = _EXPECTED_TYPES.get((binding.type.lower(), out))
    return f" ({expected})" if expected else ""


def _verb(out: bool) -> str:
    return "accept" if out else "provide"


def _return_type(
    binding: BindingSpec | None,
    annotations: Mapping[str, Any],
    problems: list[str],
    streamed: bool = False,
) -> Any:
    annotation = annotations.get("return")
    if binding is None or annotation is None or annotation is type(None):
        return None
    if streamed:  # the HTTP streams extension's response types, sent as they are
        if not http_streams.is_stream_response(annotation):
            problems.append(
                f"the return annotation is {_type_name(annotation)}; expected a response of "
                "the HTTP streams extension (such as StreamingResponse or JSONResponse), a "
                "Starlette Response, or a value FastAPI sends as JSON"
            )
        return annotation
    if _is_out(annotation):
        problems.append(
            f"the return annotation is {_type_name(annotation)}; expected the returned "
            f"value's type{_such_as(binding, out=True)}: func.Out is for parameters"
        )
        return None
    # The return value keeps its binding's converter: the worker's str/bytes rule is written
    # for it too but never matches (functions.py compares the type to a tuple with 'is').
    _check_type("$return", binding, binding.type, annotation, True, problems)
    return annotation


def _is_out(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, func.Out)


def _out_arg(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return args[0] if args else None


def _type_name(pytype: Any) -> str:
    """An annotation as a user writes it: ``str``, ``func.HttpRequest``, ``func.Out[str]``."""
    origin, args = typing.get_origin(pytype), typing.get_args(pytype)
    if origin is not None and args:
        return f"{_type_name(origin)}[{', '.join(_type_name(a) for a in args)}]"
    if not isinstance(pytype, type):
        return str(pytype)
    module, qualname = pytype.__module__, pytype.__qualname__
    if module == "builtins":
        return qualname
    if module.startswith("azure.functions") and getattr(func, qualname, None) is not None:
        return f"func.{qualname}"
    return f"{module}.{qualname}"
