"""Event Grid output through the real ``funchost start``: a sender app publishes through
``azure.eventgrid``'s client to a local topic (tests/eventgrid_topic.py, the test peer standing
where Azure Event Grid stands), which delivers to a second ``funchost`` app's Event Grid
trigger webhook, where the function logs what it received."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from broken_app_cases import disabled
from conftest import APPS, Host, StartHost
from eventgrid_topic import EventGridTopic
from http_helpers import get, mark

GRID_KEY = "grid-topic-key-c2VjcmV0"
CLOUD_KEY = "cloud-topic-key-c2VjcmV0"
WRONG_KEY = "wrong-key-bm90LXRoZS1rZXk"


@dataclass
class Setup:
    receiver: Host
    sender: Host
    grid: EventGridTopic
    cloud: EventGridTopic


@pytest.fixture
def setup(start_host: StartHost) -> Iterator[Setup]:
    receiver = start_host(APPS / "eventgrid_basic")
    webhook = f"{receiver.base_url}/runtime/webhooks/EventGrid?functionName=eg_record"
    grid = EventGridTopic(GRID_KEY, [webhook]).start()
    cloud = EventGridTopic(CLOUD_KEY, [webhook], schema="CloudEventSchemaV1_0").start()
    env = {
        "GRID_TOPIC_URI": grid.endpoint,
        "GRID_TOPIC_KEY": GRID_KEY,
        "CLOUD_TOPIC_URI": cloud.endpoint,
        "CLOUD_TOPIC_KEY": CLOUD_KEY,
        "WRONG_TOPIC_KEY": WRONG_KEY,
        "WEBHOOK_URI": webhook,
    }
    sender = start_host(APPS / "eventgrid_output", env=env)
    try:
        yield Setup(receiver, sender, grid, cloud)
    finally:
        grid.stop()
        cloud.stop()


def received(receiver: Host, count: int) -> list[dict[str, object]]:
    """What eg_record logged of the events it got, once there are ``count`` (bounded wait)."""
    deadline = time.monotonic() + 10
    while True:
        receiver.drain(0.05)
        found = (re.search(r"EVENT (\{.*\})$", line) for line in receiver.lines)
        seen = [json.loads(m.group(1)) for m in found if m]
        if len(seen) >= count:
            return seen
        assert time.monotonic() < deadline, receiver.output


def test_an_event_grid_event_reaches_the_trigger_of_a_second_app(setup: Setup) -> None:
    reply = get(setup.sender, "/api/grid/o1")
    assert (reply.status, reply.text) == (200, "sent")
    assert setup.grid.wait_for_deliveries(1)[0][1] == 202  # the webhook took it
    published = setup.grid.published[0]
    assert published.content_type == "application/json; charset=utf-8"
    assert published.events == [
        {
            "id": "o1",
            "subject": "orders/o1",
            "dataVersion": "1.0",
            "eventType": "Contoso.Order.Created",
            "data": {"amount": 3},
            "eventTime": "2026-01-02T03:04:05+00:00",
        }
    ]
    assert received(setup.receiver, 1) == [
        {
            "class": "EventGridEvent",
            "id": "o1",
            "data": {"amount": 3},
            "topic": setup.grid.resource,
            "subject": "orders/o1",
            "event_type": "Contoso.Order.Created",
            "event_time": "2026-01-02T03:04:05+00:00",
            "data_version": "1.0",
        }
    ]


def test_a_list_is_one_request_and_a_cloud_event_keeps_its_schema(setup: Setup) -> None:
    assert get(setup.sender, "/api/grid-many").status == 200
    assert get(setup.sender, "/api/cloud/c1").status == 200
    setup.grid.wait_for_deliveries(2)
    setup.cloud.wait_for_deliveries(1)
    assert [[e["id"] for e in p.events] for p in setup.grid.published] == [["m1", "m2"]]
    cloud = setup.cloud.published[0]
    assert cloud.content_type == "application/cloudevents-batch+json; charset=utf-8"
    seen = {doc["id"]: doc for doc in received(setup.receiver, 3)}
    assert seen["c1"] == {
        "class": "CloudEvent",
        "id": "c1",
        "data": {"item": "book"},
        "source": "/funchost/tests",
        "type": "Contoso.Item.Shipped",
        "specversion": "1.0",
        "time": "2026-01-02T03:04:05+00:00",
    }
    assert [seen[i]["data"] for i in ("m1", "m2")] == [{"n": 1}, {"n": 2}]


def test_nothing_is_published_when_the_function_fails_or_the_events_mix_schemas(
    setup: Setup,
) -> None:
    since = mark(setup.sender)
    assert get(setup.sender, "/api/fails").status == 500
    assert get(setup.sender, "/api/mixed").status == 500
    line = setup.sender.wait_for("event 1 lacks")
    assert (
        "binding 'out' (eventGrid): event 1 lacks subject, eventType, dataVersion, but the "
        "first event is in the Event Grid schema; expected every event of one output in the "
        "same schema"
    ) in line
    assert "failed after setting the output" in "\n".join(setup.sender.lines[since:])
    assert setup.grid.published == []


def test_a_refused_key_fails_the_invocation_without_showing_the_key(setup: Setup) -> None:
    assert get(setup.sender, "/api/wrong-key").status == 500
    line = setup.sender.wait_for("publishing 1 event(s)")
    assert (
        f"binding 'out' (eventGrid): publishing 1 event(s) to {setup.grid.endpoint} failed: "
        "401 Unauthorized"
    ) in line
    setup.sender.drain(0.2)
    for secret in (WRONG_KEY, GRID_KEY, CLOUD_KEY):
        assert secret not in setup.sender.output


def test_a_trigger_webhook_is_not_a_topic(setup: Setup) -> None:
    # The SDK sends no aeg-event-type header and wants 200; the webhook, as the extension's,
    # answers 400 without the header (Event Grid adds it when it delivers).
    assert get(setup.sender, "/api/to-webhook").status == 500
    line = setup.sender.wait_for("publishing 1 event(s) to")
    webhook = f"{setup.receiver.base_url}/runtime/webhooks/EventGrid"
    assert f"publishing 1 event(s) to {webhook} failed: 400 Bad Request" in line
    assert "an Event Grid trigger's webhook takes deliveries from a topic" in line


def test_a_key_setting_that_is_not_set_disables_the_function(setup: Setup) -> None:
    assert disabled(setup.sender.output) == [
        "function_app.py:110: function 'unset': binding 'out' (eventGrid): 'topicKeySetting' "
        "names app setting 'UNSET_TOPIC_KEY', which is not set; expected it to hold the topic "
        "access key in local.settings.json Values or the environment"
    ]
