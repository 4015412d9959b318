"""Azure Storage queues: the ``queueTrigger`` trigger and the ``queue`` output."""

from funchost.bindings.queue.provider import QUEUE_OUTPUT, QUEUE_TRIGGER

__all__ = ["QUEUE_OUTPUT", "QUEUE_TRIGGER"]
