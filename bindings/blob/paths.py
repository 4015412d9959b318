"""Blob paths as the WebJobs blob extension reads them: ``container/blob`` and trigger patterns.

A blobTrigger path (``BlobPathSource.Create``) is a literal container, then a blob-name pattern
whose ``{name}`` parts capture from the blob's path (``BindingTemplateSource``: each parameter
becomes a greedy ``(.*)`` group, literals match as written, the whole path must match). The
captured values are trigger metadata that other bindings' expressions use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from funchost.errors import BindingError

# Container names: 3-63 lower-case letters, digits and single hyphens, starting with a letter
# or digit (BlobClientExtensions.IsValidContainerName); the system containers as they are.
_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
_SYSTEM_CONTAINERS = frozenset({"$root", "$logs", "$web"})
_MAX_BLOB_NAME = 1024
# {{ and }} are literal braces; {name} is a parameter (a .NET regex group name).
_PATTERN_TOKENS = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]|[^{}]+")
_GROUP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class BlobPath:
    """One blob (or a container, when ``name`` is empty)."""

    container: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.container}/{self.name}" if self.name else self.container


def valid_container_name(name: str) -> bool:
    """IsValidContainerName: what Azure Storage accepts."""
    return name in _SYSTEM_CONTAINERS or bool(_CONTAINER.match(name))


def parse_blob_path(value: str, *, container_only: bool = False) -> BlobPath:
    """BlobPath.ParseAndValidate: an absolute blob URL or ``container/blob``.

    With ``container_only`` a bare container is accepted too (container bindings).
    """
    if not container_only and "://" in value:
        return _from_url(value)
    container, slash, name = value.partition("/")
    if not container or (slash and not name) or (not slash and not container_only):
        raise BindingError(
            f"invalid blob path specified: '{value}'; blob identifiers must be in the format "
            "'container/blob'"
        )
    if not valid_container_name(container):
        raise BindingError(f"invalid container name: {container}; {_CONTAINER_RULE}")
    if name and len(name) > _MAX_BLOB_NAME:
        raise BindingError(
            f"the blob name '{name[:40]}...' is {len(name)} characters long; "
            f"expected at most {_MAX_BLOB_NAME}"
        )
    return BlobPath(container, name)


_CONTAINER_RULE = (
    "expected 3-63 lower-case letters, digits and single hyphens, starting and ending with a "
    "letter or digit"
)


def _from_url(url: str) -> BlobPath:
    """The container and blob of a blob URL, path-style (Azurite) or virtual-host style."""
    from azure.storage.blob import BlobClient  # parses only; nothing is sent

    try:
        client = BlobClient.from_blob_url(url)
    except ValueError as exc:
        raise BindingError(f"invalid blob URL '{url}': {exc}") from None
    return BlobPath(client.container_name, client.blob_name)


def is_path_style(service_url: str, account: str) -> bool:
    """IsDevelopmentStorageAccount: the account is in the URL's path (Azurite, any port)."""
    return urlsplit(service_url).path.strip("/").lower() == account.lower()


@dataclass(frozen=True)
class BlobPattern:
    """A blobTrigger path: which blobs it fires for and what it captures from their names."""

    text: str
    container: str
    blob_pattern: str  # "" when the pattern is only a container
    parameters: tuple[str, ...]
    regex: re.Pattern[str] | None  # None without parameters

    def match(self, path: BlobPath) -> dict[str, str] | None:
        """The captured values (empty without parameters), None when the blob does not match."""
        if path.container.lower() != self.container.lower():
            return None
        if not self.blob_pattern:
            return {}
        if self.regex is None:
            return {} if path.name.lower() == self.blob_pattern.lower() else None
        found = self.regex.match(str(path))
        return None if found is None else found.groupdict()

    def __str__(self) -> str:
        return self.text


def parse_trigger_pattern(text: str) -> BlobPattern:
    """BlobPathSource.Create: a literal container, then an optional blob-name pattern."""
    container, slash, blob = text.partition("/")
    if (slash and (not container or not blob)) or "\\" in container:
        raise BindingError(
            f"invalid blob trigger path '{text}'; paths must be in the format 'container/blob'"
        )
    if "{" in container:
        raise BindingError(
            f"invalid blob trigger path '{text}'; container paths cannot contain {{resolve}} "
            "tokens: expected a container name, then '/' and the blob-name pattern"
        )
    if not valid_container_name(container):
        raise BindingError(
            f"invalid container name '{container}' in blob trigger path '{text}'; {_CONTAINER_RULE}"
        )
    parameters, regex = _capture(text)
    return BlobPattern(text, container, blob, parameters, regex)


def _capture(text: str) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    """BindingTemplateSource.BuildCapturePattern: ``^literal(?<name>.*)literal$``."""
    parts: list[str] = []
    names: list[str] = []
    for token in _PATTERN_TOKENS.finditer(text):
        raw, name = token.group(), token.group(1)
        if raw in ("{{", "}}"):
            parts.append(re.escape(raw[0]))
        elif name is not None:
            _check_parameter(text, name, names)
            names.append(name)
            parts.append(f"(?P<{name}>.*)")
        elif raw in ("{", "}"):
            raise BindingError(f"invalid blob trigger path '{text}': unbalanced '{raw}'")
        else:
            parts.append(re.escape(raw))
    if not names:
        return (), None
    return tuple(names), re.compile("^" + "".join(parts) + "$")


def _check_parameter(text: str, name: str, seen: list[str]) -> None:
    if not _GROUP_NAME.match(name):
        raise BindingError(
            f"invalid blob trigger path '{text}': '{{{name}}}' is not a parameter name; "
            "expected letters, digits and '_' such as {name}"
        )
    if name in seen:
        raise BindingError(
            f"invalid blob trigger path '{text}': the parameter '{{{name}}}' appears twice; "
            "expected each name once"
        )
