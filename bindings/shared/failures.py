"""How bindings read the errors of the Azure SDKs, and say where an error happened."""

from __future__ import annotations

from funchost.errors import BindingError, FunchostError


def located(where: str, exc: FunchostError) -> BindingError:
    """The error as a BindingError that starts with where it happened (once, not twice)."""
    message = str(exc)
    return BindingError(message if message.startswith(where) else f"{where}: {message}")


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (storage errors carry a whole XML body)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unreachable(exc: BaseException | None) -> bool:
    """Nothing answered (azure-core's ServiceRequestError): the service or emulator is down.

    Matched by name so that no SDK is imported to read an error.
    """
    return exc is not None and type(exc).__name__ == "ServiceRequestError"
