"""What an Event Grid output value becomes: events in one schema, as the extension sends them.

The Functions host splits the worker's value into items (``FunctionBinding.ReadAsEnumerable``:
a JSON array is one item each, a JSON object or text one item), and the extension's
``EventGridAsyncCollector`` picks the schema from the first item: the Event Grid schema when
it parses as an ``EventGridEvent`` (``id``, ``subject``, ``eventType`` and ``dataVersion``
set), otherwise a CloudEvent (``id``, ``source``, ``type``, ``specversion`` 1.0). Every item
of one invocation is sent in that schema, in one request; an item that is not is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from azure.functions.meta import Datum

from funchost.bindings.shared.outputs import output_text, preview
from funchost.errors import BindingError

Schema = Literal["EventGridEvent", "CloudEvent"]
# The properties an EventGridEvent has (Azure.Messaging.EventGrid): what it sends, no more.
GRID_PROPERTIES = (
    "id",
    "topic",
    "subject",
    "data",
    "eventType",
    "eventTime",
    "metadataVersion",
    "dataVersion",
)
GRID_REQUIRED = ("id", "subject", "eventType", "dataVersion")
CLOUD_REQUIRED = ("id", "source", "type", "specversion")
CLOUD_CONTENT_TYPE = "application/cloudevents-batch+json; charset=utf-8"
GRID_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Batch:
    """The events of one invocation, in one schema."""

    schema: Schema
    events: list[dict[str, Any]]

    @property
    def content_type(self) -> str:
        """The Content-Type the publisher sends for this schema."""
        return CLOUD_CONTENT_TYPE if self.schema == "CloudEvent" else GRID_CONTENT_TYPE


def batch_of(datum: Datum) -> Batch | None:
    """The events of an output value; None when it holds none (an empty list, None)."""
    items = [_event_object(item, index) for index, item in enumerate(_items(datum))]
    if not items:
        return None
    schema: Schema = "EventGridEvent" if _missing(items[0], GRID_REQUIRED) == [] else "CloudEvent"
    return Batch(schema, [_checked(item, schema, index) for index, item in enumerate(items)])


def _items(datum: Datum) -> list[Any]:
    refusal = (
        "an event; expected an event as a dict, JSON text or func.EventGridOutputEvent, or a "
        "list of them"
    )
    text = output_text(datum, refusal)
    if text is None:
        return []
    try:
        parsed = json.loads(text.strip())
    except ValueError:
        return [text]  # not JSON: fails as an event below, with the reason
    return parsed if isinstance(parsed, list) else [parsed]


def _event_object(item: Any, index: int) -> dict[str, Any]:
    if isinstance(item, str):
        try:
            item = json.loads(item)
        except ValueError:
            raise BindingError(
                f"event {index} is not JSON: {preview(item)}; expected an event object"
            ) from None
    if not isinstance(item, dict):
        raise BindingError(
            f"event {index} is {_kind(item)}; expected an event object (Event Grid schema "
            f"with {', '.join(GRID_REQUIRED)}, or a CloudEvent with {', '.join(CLOUD_REQUIRED)})"
        )
    return item


def _checked(item: dict[str, Any], schema: Schema, index: int) -> dict[str, Any]:
    if schema == "EventGridEvent":
        missing = _missing(item, GRID_REQUIRED)
        if missing:
            raise BindingError(
                f"event {index} lacks {', '.join(missing)}, but the first event is in the "
                "Event Grid schema; expected every event of one output in the same schema"
            )
        return {key: item[key] for key in GRID_PROPERTIES if key in item}
    missing = _missing(item, CLOUD_REQUIRED)
    if missing:
        raise BindingError(
            f"event {index} is neither in the Event Grid schema (it needs "
            f"{', '.join(GRID_REQUIRED)}) nor a CloudEvent: it lacks {', '.join(missing)}"
        )
    if str(item["specversion"]) != "1.0":
        raise BindingError(
            f"event {index} has specversion {item['specversion']!r}; expected '1.0' "
            "(CloudEvents 1.0)"
        )
    return item


def _missing(item: dict[str, Any], required: tuple[str, ...]) -> list[str]:
    return [key for key in required if item.get(key) is None]


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else f"a {type(value).__name__}"
