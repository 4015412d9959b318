"""Azure Event Hubs: the ``eventHubTrigger`` trigger and the ``eventHub`` output."""

from funchost.bindings.eventhubs.provider import EVENT_HUB_OUTPUT, EVENT_HUB_TRIGGER

__all__ = ["EVENT_HUB_OUTPUT", "EVENT_HUB_TRIGGER"]
