"""How an Event Grid output value becomes events, and which schema they go in."""

from __future__ import annotations

import json

import pytest
from azure.functions.meta import Datum

from funchost.bindings.eventgrid.events import batch_of
from funchost.errors import BindingError

GRID = {"id": "1", "subject": "s", "eventType": "t", "dataVersion": "1", "data": {}, "x": 1}
CLOUD = {"specversion": "1.0", "id": "2", "source": "/s", "type": "t", "data": {}, "ext": "e"}


def test_the_first_event_picks_the_schema_and_grid_events_keep_their_own_properties() -> None:
    batch = batch_of(Datum(json.dumps([GRID, GRID]), "json"))
    assert batch is not None and batch.schema == "EventGridEvent"
    assert batch.events[0] == {k: v for k, v in GRID.items() if k != "x"}
    assert batch.content_type == "application/json; charset=utf-8"


def test_cloud_events_keep_their_extension_attributes() -> None:
    batch = batch_of(Datum(json.dumps(CLOUD), "string"))
    assert batch is not None and batch.schema == "CloudEvent" and batch.events == [CLOUD]
    assert batch.content_type.startswith("application/cloudevents-batch+json")


def test_nothing_to_send_and_values_that_are_no_events() -> None:
    assert batch_of(Datum(None, None)) is None
    assert batch_of(Datum("[]", "json")) is None
    with pytest.raises(BindingError, match="event 0 is not JSON"):
        batch_of(Datum("hello", "string"))
    with pytest.raises(BindingError, match="event 0 is a int"):
        batch_of(Datum("[5]", "json"))
    with pytest.raises(BindingError, match=r"specversion '0\.3'"):
        batch_of(Datum(json.dumps({**CLOUD, "specversion": "0.3"}), "json"))
