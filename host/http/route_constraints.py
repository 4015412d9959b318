"""Route constraints (``{id:int}``, ``{name:length(2,8)}``, ...) as ASP.NET Core defines them.

Each constraint name maps to a factory that takes the text between the parentheses (or
None) and returns a check; a factory raises ValueError saying what it expects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

Check = Callable[[str], bool]
Factory = Callable[[str | None], Check]

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_INT = re.compile(r"[+-]?[0-9]+")
# .NET parses numbers with thousands separators and, for float/double, exponents,
# NaN and Infinity (NumberStyles.Float | AllowThousands; decimal uses Number).
_NUMBER = r"[+-]?(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)"
_FLOAT = re.compile(rf"{_NUMBER}(?:[eE][+-]?[0-9]+)?|nan|[+-]?infinity", re.IGNORECASE)
_DECIMAL = re.compile(_NUMBER)
_DECIMAL_MAX = 2**96 - 1
_HEX = "[0-9a-fA-F]"
_GUID_D = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_GUID = re.compile(rf"{_HEX}{{32}}|{_GUID_D}|\{{{_GUID_D}\}}|\({_GUID_D}\)")
_ALPHA = re.compile("[A-Za-z]+")


def _to_int(value: str) -> int | None:
    """The value as an integer within 64 bits' reach, or None."""
    # Capping the digits keeps int() clear of Python's guard against huge numbers.
    if _INT.fullmatch(value) is None or len(value.lstrip("+-").lstrip("0")) > 19:
        return None
    return int(value)


def _within(measure: Callable[[str], int | None], low: int | None, high: int | None) -> Check:
    def check(value: str) -> bool:
        size = measure(value)
        return size is not None and (low is None or low <= size) and (high is None or size <= high)

    return check


def _is_decimal(value: str) -> bool:
    # Beyond 96 bits .NET's decimal overflows and TryParse fails; copy_abs() does not
    # round to the context's 28 digits as abs() would.
    # Imported here: only an app with a {x:decimal} route pays for importing decimal.
    from decimal import Decimal

    matched = _DECIMAL.fullmatch(value) is not None
    return matched and Decimal(value.replace(",", "")).copy_abs() <= _DECIMAL_MAX


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _fixed(check: Check) -> Factory:
    def make(args: str | None) -> Check:
        if args is not None:
            raise ValueError("takes no arguments")
        return check

    return make


def _ints(args: str | None, usage: str, counts: tuple[int, ...], minimum: int) -> list[int]:
    """Integer arguments in non-decreasing order, or ValueError naming the usage."""
    parts = [] if args is None else args.split(",")
    numbers = [n for n in (_to_int(p.strip()) for p in parts) if n is not None and n >= minimum]
    if len(parts) not in counts or len(numbers) != len(parts) or numbers != sorted(numbers):
        raise ValueError(f"expects {usage}")
    return numbers


def _bounded(
    usage: str,
    counts: tuple[int, ...],
    measure: Callable[[str], int | None],
    bounds: Callable[[list[int]], tuple[int | None, int | None]],
) -> Factory:
    minimum = 0 if measure is len else _I64_MIN  # a length cannot be negative
    return lambda args: _within(measure, *bounds(_ints(args, usage, counts, minimum)))


def _regex(args: str | None) -> Check:
    if not args:
        raise ValueError("expects regex(expression)")
    try:
        compiled = re.compile(args, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"expects a valid regular expression ({exc})") from None
    return lambda value: compiled.search(value) is not None


_LENGTH = "length(n) or length(min,max) with integers 0 <= min <= max"
CONSTRAINTS: dict[str, Factory] = {
    "int": _fixed(_within(_to_int, -(2**31), 2**31 - 1)),
    "long": _fixed(_within(_to_int, _I64_MIN, _I64_MAX)),
    "bool": _fixed(lambda value: value.lower() in ("true", "false")),
    "guid": _fixed(lambda value: _GUID.fullmatch(value) is not None),
    "alpha": _fixed(lambda value: _ALPHA.fullmatch(value) is not None),
    "double": _fixed(lambda value: _FLOAT.fullmatch(value) is not None),
    "float": _fixed(lambda value: _FLOAT.fullmatch(value) is not None),
    "decimal": _fixed(_is_decimal),
    "datetime": _fixed(_is_datetime),
    "minlength": _bounded("minlength(n) with n >= 0", (1,), len, lambda n: (n[0], None)),
    "maxlength": _bounded("maxlength(n) with n >= 0", (1,), len, lambda n: (0, n[0])),
    "length": _bounded(_LENGTH, (1, 2), len, lambda n: (n[0], n[-1])),
    "min": _bounded("min(n) with an integer n", (1,), _to_int, lambda n: (n[0], _I64_MAX)),
    "max": _bounded("max(n) with an integer n", (1,), _to_int, lambda n: (_I64_MIN, n[0])),
    "range": _bounded("range(min,max) with min <= max", (2,), _to_int, lambda n: (n[0], n[1])),
    "regex": _regex,
}
KNOWN = ", ".join(CONSTRAINTS)
