"""Event Grid: the ``eventGridTrigger``, served through the host's webhook, and the
``eventGrid`` output, which publishes to a topic."""

from funchost.bindings.eventgrid.output import EVENT_GRID_OUTPUT
from funchost.bindings.eventgrid.trigger import EVENT_GRID_TRIGGER

__all__ = ["EVENT_GRID_OUTPUT", "EVENT_GRID_TRIGGER"]
