"""Session receivers on session-enabled queues (stub until milestone 3)."""

from __future__ import annotations

from typing import Any

from proton import Condition

SESSION_OPERATIONS: dict[str, Any] = {}


def attach_session_consumer(consumer: Any) -> Condition | None:
    return Condition("amqp:not-implemented", "sessions are not implemented yet")
