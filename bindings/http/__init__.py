"""HTTP: the ``httpTrigger`` trigger and the ``http`` output (trigger.py)."""

from funchost.bindings.http.trigger import HTTP_OUTPUT, HTTP_TRIGGER

__all__ = ["HTTP_OUTPUT", "HTTP_TRIGGER"]
