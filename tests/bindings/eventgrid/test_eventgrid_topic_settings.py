"""Which topic an Event Grid output publishes to, from its properties and the app settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from funchost.bindings.base import BindingContext, BindingSpec
from funchost.bindings.eventgrid.output import topic_of
from funchost.config_section import Section
from funchost.errors import BindingError

URI = "https://topic.westeurope-1.eventgrid.azure.net/api/events"


def topic(settings: dict[str, str], **props: Any) -> Any:
    spec = BindingSpec("out", "eventGrid", "out", props)
    ctx = BindingContext("f", Path("."), settings, Section.root({"version": "2.0"}, "host.json"))
    return topic_of(spec, ctx)


def test_the_properties_name_the_settings_that_hold_endpoint_and_key() -> None:
    found = topic({"Uri": URI, "KEY": "s3cret"}, topicEndpointUri="Uri", topicKeySetting="key")
    assert (found.endpoint, found.key, found.identity) == (URI, "s3cret", None)
    assert "s3cret" not in repr(found)


def test_a_percent_reference_already_resolved_to_the_value_is_taken_as_it() -> None:
    found = topic({"Uri": URI, "Key": "s3cret"}, topicEndpointUri=URI, topicKeySetting="s3cret")
    assert (found.endpoint, found.key) == (URI, "s3cret")


def test_a_connection_names_the_endpoint_or_identity_settings() -> None:
    assert topic({"Grid": URI}, connection="Grid").identity.setting == "Grid"
    found = topic({"Grid__topicEndpointUri": URI, "Grid__clientId": "id"}, connection="Grid")
    assert found.endpoint == URI and found.key is None


@pytest.mark.parametrize(
    ("settings", "props", "message"),
    [
        (
            {"Uri": URI},
            {"topicEndpointUri": "Uri", "topicKeySetting": "Missing"},
            "'topicKeySetting' names app setting 'Missing', which is not set",
        ),
        (
            {"Uri": "not a uri", "Key": "k"},
            {"topicEndpointUri": "Uri", "topicKeySetting": "Key"},
            "app setting 'Uri' (topicEndpointUri) is not an absolute URI",
        ),
        (
            {"Grid": URI, "Key": "k"},
            {"connection": "Grid", "topicKeySetting": "Key"},
            "both 'connection' and 'topicKeySetting' are set",
        ),
        ({}, {"topicEndpointUri": "Uri"}, "expected topic_endpoint_uri and topic_key_setting"),
    ],
)
def test_a_bad_configuration_says_what_is_wrong(
    settings: dict[str, str], props: dict[str, str], message: str
) -> None:
    with pytest.raises(BindingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        topic(settings, **props)
