"""Event Grid: the ``eventGridTrigger``, served through the host's webhook."""

from funchost.bindings.eventgrid.trigger import EVENT_GRID_TRIGGER

__all__ = ["EVENT_GRID_TRIGGER"]
