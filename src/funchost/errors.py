"""The one exception hierarchy shared by host, worker and bindings.

Messages are written for the user: they name the file, setting or function, what was
expected and what was found. Only the CLI prints them and decides the exit code.
"""

from __future__ import annotations


class FunchostError(Exception):
    """Base of every error funchost raises on purpose."""


class ConfigError(FunchostError):
    """A configuration file, setting or option holds a value funchost cannot use."""

    def __init__(self, source: str, key: str, value: object, expected: str) -> None:
        self.source = source
        self.key = key
        self.value = value
        self.expected = expected
        super().__init__(f"{source}: '{key}' is {value!r}; expected {expected}")


class AppLoadError(FunchostError):
    """The app as a whole cannot be loaded (import failed, no app, two apps)."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        self.detail = detail
        super().__init__(message)


class FunctionLoadError(FunchostError):
    """One function cannot be loaded; the rest of the app still serves."""

    def __init__(self, function_name: str, message: str, *, where: str = "") -> None:
        self.function_name = function_name
        self.where = where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}function '{function_name}': {message}")


class BindingError(FunchostError):
    """A binding could not fetch, write or decode data during an invocation."""


class InvocationTimeout(FunchostError):
    """A function ran past functionTimeout."""
