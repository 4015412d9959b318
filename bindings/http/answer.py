"""What an HTTP function answers, and the handler the host's server calls for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp.http import RawRequestMessage


@dataclass(slots=True)
class HttpAnswer:
    """What an HTTP function answers; the host's server frames and writes it as it is."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


# A function route: the request as aiohttp parsed it, its whole body and the route values.
AnswerHandler = Callable[[RawRequestMessage, bytes, dict[str, str]], Awaitable[HttpAnswer]]
