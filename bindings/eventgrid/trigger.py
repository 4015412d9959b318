"""Event Grid trigger: the local webhook ``/runtime/webhooks/EventGrid?functionName=<name>``.

The request handling mirrors the WebJobs Event Grid extension (HttpRequestProcessor and
EventGridExtensionConfigProvider in azure-sdk-for-net): the ``aeg-event-type`` header picks
the handshake, a notification (one invocation per event) or an unsubscribe. Each event
reaches the worker as the ``json`` TypedData of that one event, with its ``data`` as trigger
metadata, so the library's converter builds ``func.EventGridEvent`` or ``func.CloudEvent``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Any

from aiohttp import web
from azure.functions.meta import Datum

from funchost.bindings.base import (
    BindingContext,
    BindingSpec,
    Description,
    Dispatch,
    TriggerEvent,
    TriggerProvider,
)
from funchost.errors import BindingError

log = logging.getLogger("funchost.eventgrid")

# The category the extension's own log lines have in the Functions host.
_CATEGORY = "Host.Triggers.EventGrid"
# Events of one request run in parallel, as in the extension, but never more than this many
# at once per function: a large batch must not start hundreds of invocations together.
MAX_CONCURRENT_EVENTS = 32


class EventGridTriggerListener:
    """Answers the Event Grid webhook of one function."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch) -> None:
        if ctx.http is None:
            raise BindingError("the Event Grid trigger needs the host's HTTP server")
        self._dispatch = dispatch
        self._name = ctx.function_name
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_EVENTS)
        ctx.http.add_webhook("eventgrid", ctx.function_name, self.handle)

    def describe(self, base_url: str) -> Description:
        """The webhook URL to give Event Grid (or a tunnel) for this function."""
        url = f"{base_url}/runtime/webhooks/EventGrid?functionName={self._name}"
        return Description(f"eventGridTrigger: {url}")

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """The admin API's input is the JSON of one event."""
        try:
            event = json.loads(payload)
        except ValueError:
            # Passed on as it is: decoding fails in the invocation, which logs why.
            return TriggerEvent(data=Datum(payload, "json"))
        return TriggerEvent(data=Datum(payload, "json"), metadata=_metadata(event))

    async def start(self) -> None:
        """Nothing to start: the host's server already listens."""

    async def stop(self, deadline: float) -> None:
        """Nothing to stop: the webhook keeps answering, as the extension's listener does."""

    async def handle(self, request: web.BaseRequest, params: dict[str, str]) -> web.StreamResponse:
        """Handshake, notification or unsubscribe, chosen by the aeg-event-type header."""
        kind = request.headers.get("aeg-event-type", "").lower()
        if kind == "subscriptionvalidation":
            return await self._validate(request)
        if kind == "notification":
            return await self._notify(request)
        # Unsubscribe is acknowledged and changes nothing; anything else is a bad request.
        return web.Response(status=202 if kind == "unsubscribe" else 400)

    async def _validate(self, request: web.BaseRequest) -> web.Response:
        code = _validation_code(await _parse(request))
        if code is None:
            return self._unreadable("a validation event with data.validationCode")
        log.info(
            "perform handshake with eventGrid for function: %s",
            self._name,
            extra={"category": _CATEGORY},
        )
        return _text(200, json.dumps({"validationResponse": code}, separators=(",", ":")))

    async def _notify(self, request: web.BaseRequest) -> web.Response:
        body = await _parse(request)
        if isinstance(body, dict):
            body = [body]  # one event (CloudEvents structured mode)
        if not isinstance(body, list):
            return self._unreadable("a JSON array of events or one event object")
        outcomes = await asyncio.gather(*(self._run(event) for event in body))
        if not all(outcomes):
            # Event Grid retries the whole request, as after a failure in the Functions host.
            return _text(500, f"Exception while executing function: Functions.{self._name}")
        return web.Response(status=202)

    def _unreadable(self, expected: str) -> web.Response:
        # The extension throws on a body it cannot read; the Functions host logs the error
        # and answers 500 with no body.
        log.error(
            "Event Grid webhook of function '%s': cannot read the request body; expected %s",
            self._name,
            expected,
            extra={"category": _CATEGORY},
        )
        return web.Response(status=500)

    async def _run(self, event: Any) -> bool:
        async with self._limit:
            try:
                await self._dispatch(trigger_event(event))
            except Exception:
                return False  # the worker has logged the failure
            return True


def trigger_event(event: Any) -> TriggerEvent:
    """One event as the worker gets it: its JSON, and its ``data`` as trigger metadata."""
    return TriggerEvent(
        data=Datum(json.dumps(event), "json"),
        metadata=_metadata(event),
        reason=f"EventGrid trigger fired at {_round_trip(datetime.now().astimezone())}",
    )


def _metadata(event: Any) -> dict[str, Datum]:
    """The extension's binding data: ``data``, left out when the event has none."""
    data = event.get("data") if isinstance(event, dict) else None
    return {} if data is None else {"data": Datum(json.dumps(data), "json")}


def _round_trip(moment: datetime) -> str:
    """.NET's ``{0:o}`` of a local DateTime: seven fractional digits and the offset."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0{offset[:3]}:{offset[3:]}"


async def _parse(request: web.BaseRequest) -> Any:
    """The body as JSON, or None when it is not JSON (or the client left while sending it)."""
    try:
        return json.loads(await request.read())
    except (ValueError, ConnectionError):
        return None


def _validation_code(body: Any) -> str | None:
    """``data.validationCode`` of the first event; a CloudEvent's data may be JSON text."""
    event = body[0] if isinstance(body, list) and body else body
    data = event.get("data") if isinstance(event, dict) else None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    code = data.get("validationCode") if isinstance(data, dict) else None
    return None if code is None else str(code)


def _text(status: int, text: str) -> web.Response:
    # The extension answers with StringContent: text/plain in UTF-8.
    return web.Response(status=status, text=text, content_type="text/plain", charset="utf-8")


# A webhook on the host's server: the listener registers it, the server does the listening.
EVENT_GRID_TRIGGER = TriggerProvider("eventGridTrigger", EventGridTriggerListener)
