"""An 'echo' binding type for funchost, from a package of its own.

Input: the binding's ``text`` property with its ``{name}`` expressions filled in from the
trigger, as a string. Output: appends each value it is given, one per line, to the file its
``file`` property names. Both use only funchost's public binding contract.
"""

from __future__ import annotations

from pathlib import Path

from azure.functions.meta import Datum

from funchost.bindings.base import BindingContext, BindingProvider, BindingSpec, TriggerEvent
from funchost.bindings.shared.expressions import compile_template, trigger_values
from funchost.errors import BindingError


class EchoInput:
    """Gives the function its binding's text, with the trigger's values filled in."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext) -> None:
        text = spec.properties.get("text")
        if not isinstance(text, str):
            raise BindingError(f"binding '{spec.name}' (echo): expected a 'text' property")
        self._template = compile_template(text, f"binding '{spec.name}' (echo) text")

    async def fetch(self, event: TriggerEvent) -> Datum | None:
        return Datum(self._template.render(trigger_values(event)), "string")


class EchoOutput:
    """Appends what the function set to a file."""

    def __init__(self, spec: BindingSpec, ctx: BindingContext) -> None:
        file = spec.properties.get("file")
        if not isinstance(file, str):
            raise BindingError(f"binding '{spec.name}' (echo): expected a 'file' property")
        self._file = Path(file)

    async def write(self, datum: Datum, event: TriggerEvent) -> None:
        with self._file.open("a", encoding="utf-8") as out:
            out.write(f"{datum.value}\n")


class EchoProvider(BindingProvider):
    type_name = "echo"

    def input(self, spec: BindingSpec, ctx: BindingContext) -> EchoInput:
        return EchoInput(spec, ctx)

    def output(self, spec: BindingSpec, ctx: BindingContext) -> EchoOutput:
        return EchoOutput(spec, ctx)


ECHO = EchoProvider()
NOT_A_PROVIDER = {"type": "echo"}
