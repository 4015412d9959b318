"""Approximate depths of the storage queues that trigger functions, and of their poison queues.

Asked only while a dashboard page is open, through the same process-wide queue service
client the listener uses (bindings/shared/storage.py), so no connection is made twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from funchost.worker.wiring import LoadedFunction

TIMEOUT = 5.0  # seconds for one depth; a stuck emulator must not hold the page's request


async def queue_depths(functions: Iterable[LoadedFunction]) -> list[dict[str, Any]]:
    """One entry per queue-triggered function: queue, poison queue and their depths."""
    found = [f for f in functions if f.spec.trigger.type.lower() == "queuetrigger"]
    return list(await asyncio.gather(*(_function_depths(f) for f in found)))


async def _function_depths(function: LoadedFunction) -> dict[str, Any]:
    from funchost.bindings.shared.storage import queue_service_client

    config = getattr(function.listener, "config", None)  # QueueTriggerConfig
    queue, poison = getattr(config, "queue", None), getattr(config, "poison_queue", None)
    view: dict[str, Any] = {"function": function.spec.name, "queue": queue, "poisonQueue": poison}
    if config is None or queue is None:
        return view
    service = queue_service_client(config.connection)
    view["depth"], view["poisonDepth"] = await asyncio.gather(
        _depth(service, queue), _depth(service, poison)
    )
    return view


async def _depth(service: Any, queue: str | None) -> int | str | None:
    """The approximate message count; 0 for a queue not created yet; an error's code."""
    if queue is None:
        return None
    from azure.core.exceptions import ResourceNotFoundError

    from funchost.bindings.shared.storagequeue import error_code

    client = service.get_queue_client(queue)
    try:
        properties = await asyncio.wait_for(client.get_queue_properties(), TIMEOUT)
    except ResourceNotFoundError:
        return 0
    except (asyncio.TimeoutError, Exception) as exc:  # shown on the page, never raised
        return f"unavailable ({error_code(exc) or type(exc).__name__})"
    return int(properties.approximate_message_count or 0)
