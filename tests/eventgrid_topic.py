"""A local Event Grid topic: the test peer that stands where Azure Event Grid stands.

Event Grid has no emulator. Between a publisher (funchost's ``eventGrid`` output, through
``azure.eventgrid``'s client) and a subscriber (an Event Grid trigger's webhook) the service
does three things, and this peer does them as the service documents them:

1. Accepts ``POST`` of a JSON array of events, signed with the topic key in ``aeg-sas-key``
   (401 otherwise), in the topic's input schema (400 for another schema or a missing
   required property), and answers 200 with no body.
2. Stamps Event Grid events with the topic's resource path (``topic``) and
   ``metadataVersion`` "1".
3. Delivers each event to every subscriber with ``aeg-event-type: Notification``: an Event
   Grid event as a one-item JSON array, a CloudEvent as one object with
   ``application/cloudevents+json`` (structured mode).

It records what it received (never the key) and every delivery, for the tests to assert on.
It does not retry failed deliveries, filter, batch or validate subscriptions.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import ClientSession, ClientTimeout, web

Schema = Literal["EventGridSchema", "CloudEventSchemaV1_0"]
GRID_REQUIRED = ("id", "subject", "eventType", "eventTime")
CLOUD_REQUIRED = ("id", "source", "type", "specversion")
DELIVERY_TIMEOUT = 10.0


@dataclass
class Published:
    """One publish request as the topic saw it (headers without the key)."""

    status: int
    content_type: str
    headers: dict[str, str]
    events: Any


@dataclass
class EventGridTopic:
    """A topic on a free loopback port, served from a thread of the test process."""

    key: str
    subscribers: list[str]
    schema: Schema = "EventGridSchema"
    name: str = "funchost-test"
    published: list[Published] = field(default_factory=list)
    deliveries: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self.port = 0

    @property
    def endpoint(self) -> str:
        """What a publisher is given as the topic endpoint."""
        return f"http://127.0.0.1:{self.port}/api/events"

    @property
    def resource(self) -> str:
        """The topic's resource path, which delivered Event Grid events carry as ``topic``."""
        return (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/"
            f"providers/Microsoft.EventGrid/topics/{self.name}"
        )

    def start(self) -> EventGridTopic:
        """Listen; returns once the port is bound."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Event Grid topic did not start")
        return self

    def stop(self) -> None:
        """Stop listening and end the thread."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def wait_for_deliveries(self, count: int, timeout: float = 10.0) -> list[tuple[str, int]]:
        """Block until ``count`` deliveries were made; fail with what was published."""
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, (self.published, self.deliveries)
            time.sleep(0.02)
        return list(self.deliveries)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._listen())
        self._ready.set()
        self._loop.run_forever()

    async def _listen(self) -> None:
        app = web.Application()
        app.router.add_post("/api/events", self._publish)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _publish(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "aeg-sas-key"}
        content_type = request.headers.get("Content-Type", "")
        status, problem, events = self._accept(request, body, content_type)
        self.published.append(Published(status, content_type, headers, events))
        if status != 200:
            error = {"error": {"code": "BadRequest" if status == 400 else "Unauthorized"}}
            error["error"]["message"] = problem
            return web.json_response(error, status=status)
        # Delivered after the answer, as the service does; kept so the task is not collected.
        self._tasks.add(task := asyncio.ensure_future(self._deliver(events)))
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=200)

    def _accept(self, request: web.Request, body: bytes, content_type: str) -> tuple[int, str, Any]:
        if request.headers.get("aeg-sas-key") != self.key:
            return 401, "the request is not signed with the topic's key", None
        try:
            events = json.loads(body)
        except ValueError:
            return 400, "the body is not JSON", None
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            return 400, "expected a JSON array of events", events
        cloud = content_type.startswith("application/cloudevents")
        if cloud != (self.schema == "CloudEventSchemaV1_0"):
            return 400, f"this topic's input schema is {self.schema}", events
        required = CLOUD_REQUIRED if cloud else GRID_REQUIRED
        for event in events:
            missing = [key for key in required if event.get(key) is None]
            if missing:
                return 400, f"required property {missing[0]} is missing", events
        return 200, "", events

    async def _deliver(self, events: list[dict[str, Any]]) -> None:
        timeout = ClientTimeout(total=DELIVERY_TIMEOUT)
        async with ClientSession(timeout=timeout) as session:
            for event in events:
                for url in self.subscribers:
                    await self._deliver_one(session, url, event)

    async def _deliver_one(self, session: ClientSession, url: str, event: dict[str, Any]) -> None:
        headers = {"aeg-event-type": "Notification"}
        if self.schema == "CloudEventSchemaV1_0":
            headers["Content-Type"] = "application/cloudevents+json; charset=utf-8"
            body = json.dumps(event)
        else:
            headers["Content-Type"] = "application/json; charset=utf-8"
            body = json.dumps([{**event, "topic": self.resource, "metadataVersion": "1"}])
        try:
            async with session.post(url, data=body, headers=headers) as reply:
                self.deliveries.append((url, reply.status))
        except Exception:
            self.deliveries.append((url, 0))
