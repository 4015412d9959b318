"""The listener singleton: only one host instance runs a timer's schedule.

The Functions host wraps the timer listener in a SingletonListener (azure-webjobs-sdk): a blob
lease on ``azure-webjobs-hosts/locks/<hostId>/<functionId>.Listener``, renewed at half its
period, released on stop; an instance that cannot get it tries again every
``singleton.listenerLockRecoveryPollingInterval``. Without storage funchost uses an flock on a
file with the same name under the state folder, which the OS releases if the process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from funchost.config_section import Section
from funchost.timespan import parse_timespan

try:
    import fcntl
except ImportError:  # Windows: no flock; funchost then assumes one host per app folder
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobLeaseClient, ContainerClient

log = logging.getLogger("funchost.singleton")
CATEGORY = "Host.Singleton"
# SingletonOptions: a lease lasts 15-60 s (Azure Storage's limits); retrying sooner than the
# shortest lease is refused too.
_MIN_LEASE, _MAX_LEASE = 15.0, 60.0
_TIMESPAN_MAX = "10675199.02:48:05.4775807"  # TimeSpan.MaxValue: never try again
_NEVER = parse_timespan(_TIMESPAN_MAX, source="", key="")
_PERIOD_EXPECTED = 'a TimeSpan from "00:00:15" to "00:01:00" (the limits of a blob lease)'
_RECOVERY_EXPECTED = f'a TimeSpan of at least "00:00:15", or "{_TIMESPAN_MAX}" to never try again'
# A file lock costs nothing to try, so a waiting host takes over almost at once.
FILE_POLL_INTERVAL = 0.25
_FAST_RENEWAL = 1.0  # after a failed renewal, as the SDK's LinearSpeedupStrategy minimum


@dataclass(frozen=True)
class SingletonOptions:
    """host.json ``singleton``: the listener lock's lease period and retry interval."""

    listener_lock_period: float = 60.0
    recovery_interval: float = 60.0


def singleton_options(host_json: Section) -> SingletonOptions:
    """Read ``singleton.listenerLockPeriod`` and ``listenerLockRecoveryPollingInterval``."""
    section = host_json.section("singleton")
    period = section.timespan(
        "listenerLockPeriod", 60.0, low=_MIN_LEASE, high=_MAX_LEASE, expected=_PERIOD_EXPECTED
    )
    recovery = section.timespan(
        "listenerLockRecoveryPollingInterval", 60.0, low=_MIN_LEASE, expected=_RECOVERY_EXPECTED
    )
    return SingletonOptions(period, math.inf if recovery >= _NEVER else recovery)


class ListenerLock(Protocol):
    """A lock one host instance holds while it runs a listener."""

    lock_id: str
    poll_interval: float

    async def try_acquire(self) -> bool:
        """One attempt; False when another instance holds it."""
        ...

    async def keep(self) -> None:
        """Keep the lock (renewing it); return only when it has been lost."""
        ...

    async def release(self) -> None:
        """Give it up; nothing happens when it is not held."""
        ...


class FileListenerLock:
    """An exclusive flock on ``<state>/locks/<hostId>/<functionId>.Listener``."""

    poll_interval = FILE_POLL_INTERVAL

    def __init__(self, path: Path, lock_id: str) -> None:
        self.path = path
        self.lock_id = lock_id
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        """Non-blocking flock; the holder's pid is written into the file for humans."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    async def keep(self) -> None:
        """A file lock is never lost while the process lives."""
        await asyncio.Event().wait()

    async def release(self) -> None:
        """Unlock and close (closing alone would release it too)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class BlobListenerLock:
    """A blob lease, as BlobLeaseDistributedLockManager takes and renews it."""

    def __init__(
        self, container: ContainerClient, blob_name: str, lock_id: str, options: SingletonOptions
    ) -> None:
        self._container = container
        self._blob = blob_name
        self.lock_id = lock_id
        self._period = options.listener_lock_period
        self.poll_interval = options.recovery_interval
        self._lease: BlobLeaseClient | None = None
        self._renewed = 0.0

    async def try_acquire(self) -> bool:
        """Acquire the lease, creating the (empty) lock blob on first use."""
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        try:
            return await self._acquire()
        except ResourceNotFoundError:
            await self._create()
        except HttpResponseError as exc:
            if exc.status_code == 409:  # leased by another instance
                return False
            raise
        try:
            return await self._acquire()
        except HttpResponseError as exc:
            if exc.status_code == 409:
                return False
            raise

    async def _acquire(self) -> bool:
        blob = self._container.get_blob_client(self._blob)
        self._lease = await blob.acquire_lease(lease_duration=int(self._period))
        self._renewed = time.monotonic()
        return True

    async def _create(self) -> None:
        from azure.core.exceptions import HttpResponseError, ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            await self._container.create_container()
        try:
            await self._container.upload_blob(self._blob, b"", overwrite=False)
        except HttpResponseError as exc:
            if exc.status_code not in (409, 412):  # exists, or leased meanwhile
                raise

    async def keep(self) -> None:
        """Renew at half the lease period; faster after a failure; return when it is lost."""
        interval = self._period / 2
        while True:
            await asyncio.sleep(interval)
            try:
                await self._renew()
                interval = self._period / 2
            except _LeaseLost as exc:
                log.error(
                    "Singleton lock renewal failed for blob '%s': %s; the lease is lost.",
                    self.lock_id,
                    exc,
                    extra={"category": CATEGORY},
                )
                return
            except Exception as exc:
                log.warning(
                    "Singleton lock renewal failed for blob '%s': %s",
                    self.lock_id,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    extra={"category": CATEGORY},
                )
                if time.monotonic() - self._renewed >= self._period:
                    return  # expired meanwhile: another instance may hold it now
                interval = _FAST_RENEWAL

    async def _renew(self) -> None:
        from azure.core.exceptions import HttpResponseError

        if self._lease is None:
            raise _LeaseLost("no lease is held")
        try:
            await self._lease.renew()
        except HttpResponseError as exc:
            if exc.status_code in (404, 409, 412):
                code = getattr(exc, "error_code", None) or exc.reason
                raise _LeaseLost(f"{exc.status_code} {code}") from exc
            raise
        self._renewed = time.monotonic()

    async def release(self) -> None:
        """Release the lease; one already expired or taken is nothing to release."""
        from azure.core.exceptions import HttpResponseError

        lease, self._lease = self._lease, None
        if lease is None:
            return
        try:
            await lease.release()
        except HttpResponseError as exc:
            if exc.status_code not in (404, 409, 412):
                raise


class _LeaseLost(Exception):
    """The storage service says the lease is no longer ours."""
