"""YAML text of plain data (dicts, lists, strings, numbers, booleans), without a YAML library.

Manifests only need block mappings and sequences; a string that YAML could read as anything
else (a number, a boolean, null, or text with a special character) is written in double
quotes, which JSON's string escaping produces exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/.][A-Za-z0-9_./-]*")
_AMBIGUOUS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def scalar(value: Any) -> str:
    """One scalar as YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _AMBIGUOUS:
        return text
    return json.dumps(text)


def lines(value: Any, indent: int = 0) -> list[str]:
    """The block YAML lines of a mapping or sequence, indented by ``indent`` spaces."""
    pad = " " * indent
    if isinstance(value, Mapping):
        return [line for key, item in value.items() for line in _entry(pad, key, item, indent)]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [line for item in value for line in _item(pad, item, indent)]
    return [pad + scalar(value)]


def _entry(pad: str, key: str, item: Any, indent: int) -> list[str]:
    if _is_block(item):
        return [f"{pad}{scalar(key)}:", *lines(item, indent + 2)]
    empty = "{}" if isinstance(item, Mapping) else "[]"
    text = empty if _is_empty_collection(item) else scalar(item)
    return [f"{pad}{scalar(key)}: {text}"]


def _item(pad: str, item: Any, indent: int) -> list[str]:
    if not _is_block(item):
        return [f"{pad}- {scalar(item)}"]
    first, *rest = lines(item, indent + 2)
    return [f"{pad}- {first.lstrip()}", *rest]


def _is_block(value: Any) -> bool:
    return not _is_empty_collection(value) and (
        isinstance(value, Mapping) or (isinstance(value, Sequence) and not isinstance(value, str))
    )


def _is_empty_collection(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple) and not value


def documents(docs: Sequence[Mapping[str, Any]]) -> str:
    """Several manifests in one stream, separated by ``---``."""
    return "".join("---\n" + "\n".join(lines(doc)) + "\n" for doc in docs)
