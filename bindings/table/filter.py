"""A table binding's ``filter``, filled in as OData (the extension's TableFilterFormatter).

- A filter that is one expression and nothing else (``{query}``) is used as its value gives.
- An expression every occurrence of which sits between single quotes (``Name eq '{name}'``)
  is a string literal: its value goes in with each ``'`` doubled, so a value cannot end the
  literal early.
- Any other expression must give a bool, a whole number or a number; anything else is an
  error ("An invalid parameter value was specified for filter parameter 'x'.").
- A date value is written as ISO 8601 in UTC.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from funchost.bindings.shared.expressions import Template
from funchost.errors import BindingError

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class FilterTemplate:
    """A compiled filter and, per expression, whether it is a string literal."""

    template: Template

    def render(self, values: Mapping[str, Any]) -> str:
        """The OData filter for this invocation; BindingError on a value that cannot go in."""
        tokens = self.template.tokens
        expressions = [t for t in tokens if t.literal is None]
        if len(expressions) == 1 and len(tokens) == 1:
            return self.template.render(values)  # the whole filter is the value
        parts: list[str] = []
        for token in tokens:
            if token.literal is not None:
                parts.append(token.literal)
            else:
                parts.append(self._value(token, values))
        return "".join(parts)

    def _value(self, token: Any, values: Mapping[str, Any]) -> str:
        one = dataclasses.replace(self.template, tokens=(token,))
        text = one.render(_utc_dates(values))
        if self._quoted(token.source):
            return text.replace("'", "''")
        if text.lower() in ("true", "false") or _NUMBER.fullmatch(text):
            return text
        raise BindingError(
            f"{self.template.where}: an invalid parameter value was specified for filter "
            f"parameter '{token.source}': {text!r}; expected a bool or a number, or the "
            f"expression in single quotes ('{{{token.source}}}') for a string"
        )

    def _quoted(self, source: str) -> bool:
        """Whether every occurrence of {source} in the filter is '{source}'."""
        text = self.template.text.lower()
        bare = text.count("{" + source.lower() + "}")
        return bare > 0 and text.count("'{" + source.lower() + "}'") == bare


def _utc_dates(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """Dates as ISO 8601 in UTC, as OData wants them (DateTime.ToUniversalTime().ToString("o"))."""
    if not any(isinstance(v, datetime) for v in values.values()):
        return values
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in values.items()}


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    utc = moment.astimezone(timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}0Z"
