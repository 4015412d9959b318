"""How the Functions host splits one output value into the items of an ``IAsyncCollector``.

``FunctionBinding.ReadAsEnumerable``: a string that looks like JSON (``Utility.IsJson``) is
parsed, and an array is one item per element; anything else is one item. Each item then
becomes text as ``JToken.ToString()`` writes it (``BindAsyncCollectorAsync<string>``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def collector_items(text: str) -> list[Any]:
    """The items of a string output value: a JSON array's elements, or the value itself."""
    stripped = text.strip()
    if not (
        (stripped.startswith("{") and stripped.endswith("}"))
        or (stripped.startswith("[") and stripped.endswith("]"))
    ):
        return [text]
    try:
        parsed = json.loads(stripped)
    except ValueError:
        # Json.NET is more lenient than json (and throws where both fail); the text is kept.
        return [text]
    return parsed if isinstance(parsed, list) else [parsed]


def token_text(item: Any) -> str:
    """JToken.ToString(): strings as they are, objects and arrays as indented JSON."""
    if isinstance(item, str):
        return item
    if isinstance(item, bool):
        return "True" if item else "False"
    if item is None:
        return ""
    if isinstance(item, Mapping | list):
        return json.dumps(item, indent=2, ensure_ascii=False)
    return json.dumps(item)
