"""The host's HTTP server as the HTTP trigger needs it: a router that also serves functions."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from funchost.bindings.base import HttpRouter
from funchost.bindings.http.answer import AnswerHandler
from funchost.bindings.http.stream import StreamHandler


@runtime_checkable  # the trigger checks that the router it is given can take function routes
class FunctionRouter(HttpRouter, Protocol):
    """Webhooks and system routes (``HttpRouter``), plus function routes under routePrefix."""

    @property
    def route_prefix(self) -> str:
        """host.json's routePrefix, without slashes."""
        ...

    def add_route(
        self,
        template: str,
        methods: frozenset[str] | None,
        handler: AnswerHandler,
        function_name: str,
        auth_level: str = "function",
    ) -> None:
        """A function route under routePrefix; auth_level is anonymous, function or admin."""
        ...

    def add_stream_route(
        self,
        template: str,
        methods: frozenset[str] | None,
        stream: StreamHandler,
        function_name: str,
        auth_level: str = "function",
    ) -> None:
        """A function route whose body is read, and response written, as they go."""
        ...
