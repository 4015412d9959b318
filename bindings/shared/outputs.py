"""What one output value becomes: the items the host's collector gets, as bytes.

The worker sends an output as a Datum; the Functions host splits it as its
``FunctionBinding.ReadAsEnumerable`` does (a JSON array, or a string that looks like one, is
one item per element) and turns each item into bytes as its ``IAsyncCollector<byte[]>`` path
does. Every collector-based output (storage queues, Event Hubs, Service Bus) writes these;
Service Bus sends them as text, except a ``bytes`` value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from azure.functions.meta import Datum

from funchost.errors import BindingError


def output_bodies(datum: Datum) -> list[bytes]:
    """The messages one output value becomes, as bytes."""
    value = datum.value
    if datum.type == "bytes":
        return [bytes(value)]
    if datum.type == "json":
        parsed = json.loads(value)
        items = parsed if isinstance(parsed, list) else [parsed]
        return [_item_text(item).encode("utf-8") for item in items]
    if datum.type == "string":
        return [_item_text(item).encode("utf-8") for item in _string_items(value)]
    if datum.type in ("int", "double"):
        return [str(value).encode("utf-8")]
    raise BindingError(f"cannot write a {datum.type!r} value to this output")


def _string_items(text: str) -> list[Any]:
    """A string that looks like JSON (Utility.IsJson) is parsed: an array is one message each."""
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


def _item_text(item: Any) -> str:
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


def output_text(datum: Datum, refusal: str) -> str | None:
    """A JSON-ish output value as text (None when unset); ``refusal`` says what it wants."""
    value = datum.value
    if datum.type is None or value is None:
        return None
    if datum.type == "bytes":
        return bytes(value).decode("utf-8", "replace")
    if datum.type not in ("json", "string"):
        raise BindingError(f"cannot write a {datum.type!r} value as {refusal}")
    return str(value)


def output_objects(datum: Datum, what: str) -> list[dict[str, Any]]:
    """The JSON objects an output value holds: one object, or an array of them.

    For outputs whose items are documents (a table entity, a Cosmos DB item); ``what`` names
    the item in messages ("a table entity").
    """
    text = output_text(datum, f"{what}; expected a dict, a list of dicts, or their JSON")
    if text is None:
        return []
    try:
        parsed = json.loads(text)
    except ValueError:
        raise BindingError(
            f"the value is not JSON: {preview(text)}; expected {what} as a JSON object, "
            "or a JSON array of them"
        ) from None
    items = parsed if isinstance(parsed, list) else [parsed]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BindingError(
                f"item {index} is {type(item).__name__} {preview(json.dumps(item))}; "
                f"expected {what} as a JSON object"
            )
    return items


def preview(text: str) -> str:
    """The start of a value, quoted, for a message."""
    return repr(text if len(text) <= 40 else text[:40] + "...")
