"""A ``sqlQuery`` with ``{name}`` parts, run as a parameterized query.

As the extension's ``CosmosDBSqlResolutionPolicy``: each distinct expression ``{name}``
becomes the SQL parameter ``@name`` and its trigger value is passed as that parameter's value
(typed: a number stays a number), never spliced into the text, so a value cannot change the
query. Braces doubled (``{{``) are literal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from funchost.bindings.shared.expressions import Template

# (query text, parameters as the SDK takes them) for one invocation's trigger values.
Query = Callable[[dict[str, Any]], tuple[str, list[dict[str, Any]]]]


def sql_query(template: Template) -> Query:
    """The query text (fixed at load) and a function giving each invocation's parameters."""
    text = "".join(
        token.literal if token.literal is not None else f"@{token.source}"
        for token in template.tokens
    )

    def build(values: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        parameters = [
            {"name": f"@{source}", "value": value} for source, value in template.values(values)
        ]
        return text, parameters

    return build
