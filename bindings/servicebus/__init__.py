"""Azure Service Bus: the ``serviceBusTrigger`` trigger and the ``serviceBus`` output."""

from funchost.bindings.servicebus.provider import SERVICE_BUS_OUTPUT, SERVICE_BUS_TRIGGER

__all__ = ["SERVICE_BUS_OUTPUT", "SERVICE_BUS_TRIGGER"]
