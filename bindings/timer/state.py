"""A timer's schedule status (Last, Next, LastUpdated) and where it is kept between runs.

As the WebJobs timer extension's ScheduleMonitor: with ``AzureWebJobsStorage`` set, in the
blob ``azure-webjobs-hosts/timers/<hostId>/<functionId>/status`` (StorageScheduleMonitor);
without it, in the same JSON under a local state folder. The past-due rules are
ScheduleMonitor.CheckPastDueAsync's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from funchost.bindings.shared.localtime import json_date, parse_json_date
from funchost.bindings.timer.schedule import Schedule

if TYPE_CHECKING:
    from azure.storage.blob.aio import ContainerClient

log = logging.getLogger("funchost.timer")
CATEGORY = "Host.Triggers.Timer"
# ScheduleMonitor.DefaultDateTime (DateTime.MinValue) as Json.NET writes it: "never".
NEVER = "0001-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class ScheduleStatus:
    """What the extension records after every occurrence; None stands for "never"."""

    last: datetime | None
    next: datetime | None
    last_updated: datetime | None

    def to_json(self, zone: tzinfo) -> dict[str, str]:
        """The JSON object, field names and date format as Json.NET writes ScheduleStatus."""
        return {
            "Last": _date(self.last, zone),
            "Next": _date(self.next, zone),
            "LastUpdated": _date(self.last_updated, zone),
        }

    def dumps(self, zone: tzinfo) -> str:
        """The blob's (and the file's) text, dates in the zone's local time."""
        return json.dumps(self.to_json(zone), separators=(",", ":"))

    @classmethod
    def loads(cls, text: str, zone: tzinfo) -> ScheduleStatus:
        """Read a status as the extension (or funchost) wrote it; bad dates read as "never"."""
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("the status is not a JSON object")
        get = {str(k).lower(): v for k, v in doc.items()}.get
        return cls(
            last=parse_json_date(str(get("last", "")), zone),
            next=parse_json_date(str(get("next", "")), zone),
            last_updated=parse_json_date(str(get("lastupdated", "")), zone),
        )


def _date(moment: datetime | None, zone: tzinfo) -> str:
    return NEVER if moment is None else json_date(moment, zone)


def check_past_due(
    now: datetime, schedule: Schedule, status: ScheduleStatus | None
) -> tuple[ScheduleStatus, timedelta, bool]:
    """ScheduleMonitor.CheckPastDueAsync: (status to keep, how late, whether to write it)."""
    if status is None:
        # First start: record Next now, so an occurrence missed before the next start counts.
        fresh = ScheduleStatus(last=None, next=schedule.next_after(now), last_updated=now)
        return fresh, timedelta(0), True
    changed = False
    base = status.last or status.last_updated or now
    expected = schedule.next_after(base)
    if status.next != expected:
        # The schedule changed since the status was written: recalculate, never "past due"
        # because of the change alone.
        last_updated = base
        if now > expected:
            expected, last_updated = schedule.next_after(now), now
        status = ScheduleStatus(last=None, next=expected, last_updated=last_updated)
        changed = True
    late = now - status.next if status.next is not None and now > status.next else timedelta(0)
    return status, late, changed


def after_invocation(
    invoked: datetime, status: ScheduleStatus, schedule: Schedule, *, scheduled: bool
) -> ScheduleStatus:
    """TimerListener.InvokeJobFunction's new status once an occurrence has run.

    A scheduled run that fired a little early counts as run at its occurrence: computing Next
    from the earlier instant would give the same occurrence again.
    """
    adjusted = invoked
    if scheduled and status.next is not None and status.next > invoked:
        adjusted = status.next
    return ScheduleStatus(last=adjusted, next=schedule.next_after(adjusted), last_updated=adjusted)


class StatusStore(Protocol):
    """Where a timer's status is kept: read at start, written after every occurrence."""

    where: str

    async def get(self) -> str | None:
        """The stored text, None when nothing is stored yet."""
        ...

    async def put(self, text: str) -> None:
        """Store the text, replacing what was there."""
        ...


class FileStatusStore:
    """``<state>/timers/<hostId>/<functionId>/status`` on the local disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    async def get(self) -> str | None:
        """The file's text; None when it does not exist."""
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    async def put(self, text: str) -> None:
        """Write atomically: a crash mid-write leaves the old status, never half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, self.path)


class BlobStatusStore:
    """The status blob in the host's container, as StorageScheduleMonitor keeps it."""

    def __init__(self, container: ContainerClient, blob_name: str) -> None:
        self._container = container
        self._blob = blob_name
        self.where = f"{container.container_name}/{blob_name}"

    async def get(self) -> str | None:
        """The blob's text; None on 404."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            downloader = await self._container.get_blob_client(self._blob).download_blob()
            data: bytes = await downloader.readall()
        except ResourceNotFoundError:
            return None
        return data.decode("utf-8-sig")

    async def put(self, text: str) -> None:
        """Upload, creating the container first as the extension does."""
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            await self._container.create_container()
        blob = self._container.get_blob_client(self._blob)
        await blob.upload_blob(text.encode("utf-8"), overwrite=True)


async def read_status(store: StatusStore, zone: tzinfo, function: str) -> ScheduleStatus | None:
    """The stored status; an unreadable one is logged and treated as none."""
    text = await store.get()
    if text is None:
        return None
    try:
        return ScheduleStatus.loads(text, zone)
    except ValueError as exc:
        log.warning(
            "Function '%s': the timer status in %s is not valid JSON (%s); starting as if "
            "none was stored.",
            function,
            store.where,
            exc,
            extra={"category": CATEGORY},
        )
        return None


async def write_status(
    store: StatusStore, status: ScheduleStatus, zone: tzinfo, function: str
) -> None:
    """Best effort, as the extension: a failed write is logged, the schedule goes on."""
    try:
        await store.put(status.dumps(zone))
    except Exception as exc:
        log.error(
            "Function '%s' failed to update the timer trigger status in %s: %s",
            function,
            store.where,
            _brief(exc),
            extra={"category": CATEGORY},
        )


def _brief(exc: BaseException) -> Any:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
