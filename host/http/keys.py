"""Function keys and auth levels, as the Functions host keeps and checks them.

Keys come from ``FUNCTIONS_MASTER_KEY`` / ``FUNCTIONS_FUNCTION_KEY`` and from file secret
storage in the Functions host's layout (``host.json`` with masterKey, functionKeys and
systemKeys; ``<function>.json`` with keys), generated on first use with ``secrets``.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funchost.errors import ConfigError

try:
    import fcntl
except ImportError:  # Windows: one process serves there (no --workers)
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("funchost.keys")

ANONYMOUS, FUNCTION, ADMIN, SYSTEM = "anonymous", "function", "admin", "system"
AUTH_LEVELS = (ANONYMOUS, FUNCTION, ADMIN, SYSTEM)
SECRETS_PATH_SETTING = "FUNCTIONS_SECRETS_PATH"
STORAGE_TYPE_SETTING = "AzureWebJobsSecretStorageType"


@dataclass(frozen=True)
class Keys:
    """Every key the host accepts, by kind."""

    master: str
    host_keys: Mapping[str, str] = field(default_factory=dict)
    system_keys: Mapping[str, str] = field(default_factory=dict)
    function_keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def allows(
        self, level: str, key: str | None, function_name: str = "", system_key: str = ""
    ) -> bool:
        """Whether ``key`` grants ``level`` (constant-time compares).

        Function level: the function's own keys, host keys, master. System level (webhooks):
        only the named system key, or master, as the Functions host's AuthUtility allows.
        """
        if level == ANONYMOUS:
            return True
        if not key:
            return False
        candidates = [self.master]
        if level == FUNCTION:
            candidates += [
                *self.host_keys.values(),
                *self.function_keys.get(function_name, {}).values(),
            ]
        elif level == SYSTEM and system_key in self.system_keys:
            candidates.append(self.system_keys[system_key])
        return _any_equal(key, candidates)


def _any_equal(key: str, candidates: Iterable[str]) -> bool:
    # Compare with every candidate, so the time taken says nothing about which matched.
    # surrogatepass: a header byte that is not UTF-8 arrives as a surrogate; it only
    # fails to match instead of raising.
    given = key.encode("utf-8", "surrogatepass")
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(given, candidate.encode("utf-8", "surrogatepass"))
    return matched


def new_key() -> str:
    """A key shaped like the Functions host's: 40 random bytes, URL-safe base64, '==' kept."""
    return base64.urlsafe_b64encode(secrets.token_bytes(40)).decode()


def secrets_dir(script_root: Path, settings: Mapping[str, str]) -> Path:
    """FUNCTIONS_SECRETS_PATH (relative to the app), else ``.funchost/secrets`` in the app."""
    configured = settings.get(SECRETS_PATH_SETTING)
    if configured:
        return (script_root / configured).resolve()
    return script_root / ".funchost" / "secrets"


def load_keys(
    script_root: Path,
    settings: Mapping[str, str],
    function_names: Iterable[str],
    system_key_names: Iterable[str] = (),
) -> Keys:
    """Read (and create where missing) the host's and each function's keys."""
    storage = settings.get(STORAGE_TYPE_SETTING, "files") or "files"
    if storage.lower() != "files":
        log.warning("%s=%s: funchost keeps keys in files only.", STORAGE_TYPE_SETTING, storage)
    folder = secrets_dir(script_root, settings)
    with _one_writer(folder):
        host_doc = _host_secrets(folder, list(system_key_names))
        functions = {name: _function_keys(folder, name) for name in function_names}
    master = settings.get("FUNCTIONS_MASTER_KEY") or host_doc["masterKey"]["value"]
    host_keys = _named(host_doc.get("functionKeys", []), folder / "host.json", "functionKeys")
    if settings.get("FUNCTIONS_FUNCTION_KEY"):
        host_keys["FUNCTIONS_FUNCTION_KEY"] = settings["FUNCTIONS_FUNCTION_KEY"]
    system = _named(host_doc.get("systemKeys", []), folder / "host.json", "systemKeys")
    return Keys(master=master, host_keys=host_keys, system_keys=system, function_keys=functions)


@contextlib.contextmanager
def _one_writer(folder: Path) -> Iterator[None]:
    """One process at a time reads and creates keys: workers starting together (--workers)
    would each make their own and then refuse each other's."""
    _make_folder(folder)
    # Owner-only like every file here (an empty lock file, but the folder's rule is one rule).
    fd = os.open(folder / ".lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def _host_secrets(folder: Path, system_names: list[str]) -> dict[str, Any]:
    path = folder / "host.json"
    doc = _read(path) if path.exists() else {}
    changed = not path.exists()
    if not isinstance(doc.get("masterKey"), dict) or not doc["masterKey"].get("value"):
        doc["masterKey"] = _key("master")
        changed = True
    if not doc.get("functionKeys"):
        doc["functionKeys"] = [_key("default")]
        changed = True
    system = doc.setdefault("systemKeys", [])
    for name in system_names:
        if not any(isinstance(k, dict) and k.get("name") == name for k in system):
            system.append(_key(name))
            changed = True
    if changed:
        _write(path, doc)
    return doc


def _function_keys(folder: Path, function_name: str) -> dict[str, str]:
    path = folder / f"{function_name.lower()}.json"
    doc = _read(path) if path.exists() else {}
    if not doc.get("keys"):
        doc["keys"] = [_key("default")]
        _write(path, doc)
    return _named(doc["keys"], path, "keys")


def _key(name: str) -> dict[str, Any]:
    return {"name": name, "value": new_key(), "encrypted": False}


def _named(entries: object, path: Path, section: str) -> dict[str, str]:
    if not isinstance(entries, list):
        raise ConfigError(str(path), section, entries, 'a list of {"name", "value"} objects')
    keys: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
            raise ConfigError(str(path), section, entry, 'an object with a "value" string')
        if entry.get("encrypted"):
            raise ConfigError(
                str(path),
                f"{section}.{entry.get('name')}",
                "encrypted",
                "plain keys (funchost cannot decrypt keys encrypted by another host)",
            )
        keys[str(entry.get("name") or "default")] = entry["value"]
    return keys


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), "(file)", str(exc), "a readable JSON secrets file") from exc
    if not isinstance(doc, dict):
        raise ConfigError(str(path), "(top level)", doc, "a JSON object")
    return doc


def _write(path: Path, doc: Mapping[str, Any]) -> None:
    _make_folder(path.parent)
    full = {**doc, "source": "runtime", "decryptionKeyId": ""}
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)  # a crashed run's, maybe with other modes: O_EXCL below
    # Keys are secrets: the file is its owner's alone from the moment it exists.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(full, indent=2))
    tmp.replace(path)


def _make_folder(folder: Path) -> None:
    """The secrets folder, owner-only; in ``.funchost`` a .gitignore too: no key is committed."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.parent.name == ".funchost":
        ignore = folder.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# funchost's own files: keys and state, never committed\n*\n")
