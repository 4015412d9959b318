"""HTTP: the ``httpTrigger`` trigger and the ``http`` output (trigger.py); what a function
answers (answer.py), its Set-Cookie headers as Azure sends them (cookies.py) and the router
its route is registered on (router.py)."""

from funchost.bindings.http.trigger import HTTP_OUTPUT, HTTP_TRIGGER

__all__ = ["HTTP_OUTPUT", "HTTP_TRIGGER"]
