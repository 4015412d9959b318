"""How bindings read the errors of the Azure SDKs, in one place."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (storage errors carry a whole XML body)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unreachable(exc: BaseException | None) -> bool:
    """Nothing answered (azure-core's ServiceRequestError): the service or emulator is down.

    Matched by name so that no SDK is imported to read an error.
    """
    return exc is not None and type(exc).__name__ == "ServiceRequestError"
