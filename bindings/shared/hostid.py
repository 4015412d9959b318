"""The host id, as the Functions host derives it (ScriptHostIdProvider in azure-functions-host).

Bindings that keep state under the host's name (timer status, singleton locks) use it, so two
hosts of the same app on one machine share the state and two apps never do.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from pathlib import Path

# ScriptConstants.MaximumHostIdLength.
MAX_LENGTH = 32
# ConfigurationSectionNames.HostIdPath ("AzureFunctionsWebHost:hostid"), as an app setting.
HOST_ID_SETTING = "AzureFunctionsWebHost__hostid"


def host_id(settings: Mapping[str, str], script_root: Path) -> str:
    """The configured host id, else the one the Functions host derives for this app."""
    configured = _setting(settings, HOST_ID_SETTING)
    if configured:
        return configured  # used as written, as the Functions host does
    if _setting(settings, "WEBSITE_INSTANCE_ID"):
        derived = _slot_name(settings)
    else:
        derived = local_host_id(socket.gethostname(), str(script_root.resolve()))
    return derived[:MAX_LENGTH].lower().rstrip("-")


def local_host_id(hostname: str, script_path: str) -> str:
    """``<machine name>-<stable hash of the script path>`` before truncation and lower-casing.

    .NET's Environment.MachineName on Unix is the host name up to its first dot; the Functions
    host keeps only its letters and digits.
    """
    machine = "".join(c for c in hostname.split(".")[0] if c.isalnum())
    return f"{machine}-{abs(stable_hash(script_path))}"


def stable_hash(value: str) -> int:
    """Utility.GetStableHash: ``hash = hash * 31 + c`` over UTF-16 code units, as an Int32."""
    units = value.encode("utf-16-le")
    result = 23
    for i in range(0, len(units), 2):
        result = (result * 31 + int.from_bytes(units[i : i + 2], "little")) & 0xFFFFFFFF
    return result - (1 << 32) if result >= 1 << 31 else result


def _slot_name(settings: Mapping[str, str]) -> str:
    """GetAzureWebsiteUniqueSlotName: the site name, with the slot unless it is production."""
    name = _setting(settings, "WEBSITE_SITE_NAME")
    slot = _setting(settings, "WEBSITE_SLOT_NAME")
    if slot and slot.lower() != "production":
        name = f"{name}-{slot}"
    return name.lower()


def _setting(settings: Mapping[str, str], name: str) -> str:
    """A setting by name, case-insensitively and with ':' for '__', as .NET configuration."""
    wanted = {name.lower(), name.lower().replace("__", ":")}
    for key, value in settings.items():
        if key.lower() in wanted and value:
            return value.strip()
    return ""
