"""Helpers shared by the queue tests: queues of their own on the session Azurite, and waiting.

It holds no tests; test_queue*.py import it (tests/ is on sys.path, as for conftest). Every
test names its queues with a fresh prefix, so tests never see each other's messages.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import QueueClient, QueueMessage
from azure.storage.queue import QueueServiceClient as SyncQueueService
from azurite import Azurite
from conftest import Host

APP = "queue_functions"
STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z\] ")
DEBUG_QUEUE_LOGS = {"AzureFunctionsJobHost__logging__logLevel__Host.Triggers.Queue": "Debug"}


def unique(tag: str) -> str:
    """A queue name no other test uses (lowercase letters, digits and dashes)."""
    return f"t{uuid.uuid4().hex[:10]}-{tag}"


def queue_env(azurite: Azurite, **queues: str) -> dict[str, str]:
    """Settings for the app: the storage, and Q_<NAME> for each queue the test uses."""
    env = {"AzureWebJobsStorage": azurite.connection_string}
    env.update({f"Q_{name.upper()}": value for name, value in queues.items()})
    return env


def client(azurite: Azurite, queue: str) -> QueueClient:
    """A sync client without encode or decode policy: tests see the stored text."""
    service = SyncQueueService.from_connection_string(azurite.connection_string, retry_total=0)
    return service.get_queue_client(queue)


def create(azurite: Azurite, queue: str) -> QueueClient:
    """The queue, created (as the test, not the host under test, must have it)."""
    queue_client = client(azurite, queue)
    with contextlib.suppress(ResourceExistsError):
        queue_client.create_queue()
    return queue_client


def send(azurite: Azurite, queue: str, *bodies: str | bytes) -> list[QueueMessage]:
    """Send messages base64-encoded, as the Functions host and its tools send them."""
    queue_client = create(azurite, queue)
    sent = []
    for body in bodies:
        raw = body.encode() if isinstance(body, str) else body
        sent.append(queue_client.send_message(base64.b64encode(raw).decode()))
    return sent


def stored(azurite: Azurite, queue: str) -> list[str]:
    """The text of every visible message in the queue (peeked: nothing is dequeued)."""
    try:
        return [m.content for m in client(azurite, queue).peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []


def bodies(azurite: Azurite, queue: str) -> list[bytes]:
    """The decoded bodies of the visible messages."""
    return [base64.b64decode(text) for text in stored(azurite, queue)]


def message_count(azurite: Azurite, queue: str) -> int:
    """Visible and invisible messages (Azurite's count is exact)."""
    try:
        properties = client(azurite, queue).get_queue_properties()
    except ResourceNotFoundError:
        return 0
    return int(properties.approximate_message_count or 0)


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll condition until it is truthy; fail with what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def lines_with(host: Host, text: str) -> list[str]:
    """Every line so far that contains text (reading what the host printed meanwhile)."""
    host.drain(0)
    return [line for line in host.lines if text in line]


def wait_lines(host: Host, text: str, count: int, timeout: float) -> list[str]:
    """Wait until count lines contain text; fail with the output."""
    deadline = time.monotonic() + timeout
    while True:
        found = lines_with(host, text)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(found)} of {count} lines with {text!r} after {timeout} s:\n{host.output}"
            )
        time.sleep(0.05)


def logged(host: Host, tag: str) -> list[dict[str, Any]]:
    """The JSON documents the function logged after tag."""
    return [json.loads(line.split(f" {tag} ", 1)[1]) for line in lines_with(host, f" {tag} {{")]


def stamp(line: str) -> datetime:
    """The UTC time a log line was printed."""
    match = STAMP.match(line)
    assert match, line
    return datetime.fromisoformat(match.group(1))


def words_after(lines: Iterable[str], tag: str) -> list[str]:
    """The text after tag on each line."""
    return [line.split(f" {tag} ", 1)[1] for line in lines]
